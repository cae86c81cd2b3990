import type { VsshClient } from '@meshpop/vssh';
import { MpopError } from '../errors.js';
import { tzOffsetMinutes, type TimeContext } from './parse.js';

/** NodeLogFacts is what a node has for logs: a journal, tools, and which of the asked files it can read. */
export interface NodeLogFacts extends TimeContext {
  /** a systemd journal is there (journald's socket or journal files) and journalctl can read it */
  journal: boolean;
  /** the node runs systemd (PID 1) */
  systemd: boolean;
  tools: Set<string>;
  readable: Set<string>;
  /** files that exist but this node's daemon cannot read */
  unreadable: Set<string>;
  /** files that exist but are not regular files (a folder, a device) */
  notFile: Set<string>;
}

/**
 * PROBE is the POSIX sh script that says what a node has; the files to look at are its arguments, never
 * part of the script. One line per fact, so a file name cannot pass for another fact (names with a newline
 * are refused before they get here).
 */
const PROBE = [
  'echo "now $(date +%s)"',
  'echo "tz $(date +%z)"',
  'if [ -S /run/systemd/journal/socket ] || ls /var/log/journal/*/*.journal /run/log/journal/*/*.journal >/dev/null 2>&1; then echo journal; fi',
  '[ -d /run/systemd/system ] && echo systemd',
  'for t in journalctl dmesg docker podman tail grep; do command -v "$t" >/dev/null 2>&1 && echo "tool $t"; done',
  'for f in "$@"; do if [ -f "$f" ] && [ -r "$f" ]; then echo "readable $f"; elif [ -f "$f" ]; then echo "unreadable $f"; elif [ -e "$f" ]; then echo "notfile $f"; fi; done',
  'exit 0',
].join('\n');

/** probeNode asks a node (one exec) what it has for logs: its clock and zone, a journal, tools, and `files`. */
export async function probeNode(client: VsshClient, files: string[], signal?: AbortSignal): Promise<NodeLogFacts> {
  const r = await client.exec({ argv: ['sh', '-c', PROBE, 'mpop-logs-probe', ...files] }, { timeoutMs: 15_000, ...(signal ? { signal } : {}) });
  if (r.exitCode !== 0) throw new MpopError('MPOP_REMOTE', `cannot look for logs on ${client.target.name}: sh exited ${r.exitCode}: ${r.stderr.toString('utf8').trim().slice(0, 300)}`);
  return parseProbe(r.stdout.toString('utf8'));
}

/** parseProbe reads PROBE's output. */
export function parseProbe(text: string): NodeLogFacts {
  const f: NodeLogFacts = { nowMs: Date.now(), tzMinutes: 0, journal: false, systemd: false, tools: new Set(), readable: new Set(), unreadable: new Set(), notFile: new Set() };
  let journalSeen = false;
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const value = sp < 0 ? '' : line.slice(sp + 1);
    if (key === 'now' && /^\d+$/.test(value)) f.nowMs = Number(value) * 1000;
    else if (key === 'tz') f.tzMinutes = tzOffsetMinutes(value);
    else if (key === 'journal') journalSeen = true;
    else if (key === 'systemd') f.systemd = true;
    else if (key === 'tool') f.tools.add(value);
    else if (key === 'readable') f.readable.add(value);
    else if (key === 'unreadable') f.unreadable.add(value);
    else if (key === 'notfile') f.notFile.add(value);
  }
  f.journal = journalSeen && f.tools.has('journalctl');
  return f;
}
