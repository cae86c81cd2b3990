import type { RemoteCommand } from '../exec.js';
import { MpopError } from '../errors.js';
import type { NodeLogFacts } from './probe.js';
import { FILE_CANDIDATES, type LogSource } from './source.js';

/** LogQuery is what to read: how many lines, since when, and what they must match. */
export interface LogQuery {
  /** the last N entries (per file for several files) */
  lines: number;
  /** only entries since then: a span back from the node's own clock, or a moment */
  since?: { agoMs: number } | { atMs: number };
  /** a regex (grep -E; journalctl's PCRE2 for the journal) or, with `fixed`, a plain string */
  grep?: string;
  fixed?: boolean;
  ignoreCase?: boolean;
  /** only entries until then (same forms as since) */
  until?: { agoMs: number } | { atMs: number };
  /** only entries at this syslog priority or worse (0 emerg .. 7 debug); applied by journalctl -p and dmesg --level, else by the level a line names */
  priority?: number;
}

/** ReaderKind is how a reader's output is parsed. */
export type ReaderKind = 'journal' | 'file' | 'dmesg' | 'container';

/** Reader is one command to run on a node for a source, and how to read what it prints. */
export interface Reader {
  kind: ReaderKind;
  /** what was read, for people: "journald", "/var/log/syslog", "dmesg", "docker logs web" */
  label: string;
  file?: string;
  /** the container's name, for container readers */
  unit?: string;
  fetch: RemoteCommand;
  follow: RemoteCommand;
  /** whether the command itself applies --since (else mpop filters by the lines' timestamps) */
  nativeSince: boolean;
}

/** LogPlan is what a node will read for a source: its readers, and notes for people (the fallback taken). */
export interface LogPlan {
  readers: Reader[];
  notes: string[];
}

/** SINCE_WINDOW is how many lines back mpop reads from a file to apply --since itself (files have no index by time). */
export const SINCE_WINDOW = 20_000;

/** sinceCutoff is the --since moment in the node's clock, in ms since the epoch. */
export function sinceCutoff(q: LogQuery, facts: { nowMs: number }): number | undefined {
  if (!q.since) return undefined;
  return 'agoMs' in q.since ? facts.nowMs - q.since.agoMs : q.since.atMs;
}

/** untilCutoff is the until moment in the node's clock, in ms since the epoch. */
export function untilCutoff(q: LogQuery, facts: { nowMs: number }): number | undefined {
  if (!q.until) return undefined;
  return 'agoMs' in q.until ? facts.nowMs - q.until.agoMs : q.until.atMs;
}

/** windowed says whether a reader without a time index reads a window of lines to filter by time itself. */
const windowed = (q: LogQuery): boolean => q.since !== undefined || q.until !== undefined;

/** DMESG_LEVELS are dmesg --level's names, by syslog priority. */
const DMESG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

const grepFlags = (q: LogQuery): string => `${q.fixed ? '-F' : '-E'}${q.ignoreCase ? ' -i' : ''}`;

/** pcreEscape makes a fixed string a PCRE2 pattern (journalctl --grep takes only patterns). */
const pcreEscape = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function journalReader(q: LogQuery, facts: NodeLogFacts, label: string, matches: string[]): Reader {
  const cutoff = sinceCutoff(q, facts);
  const base = ['journalctl', '-o', 'json', '--no-pager', '--all', '-n', String(q.lines)];
  if (cutoff !== undefined) base.push('--since', `@${Math.floor(cutoff / 1000)}`);
  const until = untilCutoff(q, facts);
  if (until !== undefined) base.push('--until', `@${Math.floor(until / 1000)}`);
  if (q.priority !== undefined) base.push('-p', String(q.priority));
  if (q.grep !== undefined) base.push('--grep', q.fixed ? pcreEscape(q.grep) : q.grep, `--case-sensitive=${q.ignoreCase ? 'false' : 'true'}`);
  return { kind: 'journal', label, fetch: { argv: [...base, ...matches] }, follow: { argv: [...base, '--follow', ...matches] }, nativeSince: true };
}

function fileReader(q: LogQuery, file: string): Reader {
  // With --since, a window of lines is read and filtered here (files have no index by time); a follow
  // starts from the last --lines lines and drops older ones as they come.
  const n = String(windowed(q) ? Math.max(q.lines, SINCE_WINDOW) : q.lines);
  const nf = String(q.lines);
  const g = grepFlags(q);
  if (q.grep === undefined) {
    return { kind: 'file', label: file, file, fetch: { argv: ['tail', '-n', n, '--', file] }, follow: { argv: ['tail', '-F', '-n', nf, '--', file] }, nativeSince: false };
  }
  // grep reads the file on the node; only the last matching lines cross. Arguments stay positional ($1..$3).
  const last = `grep -h ${g} -e "$3" -- "$2" | tail -n "$1"`;
  return {
    kind: 'file',
    label: file,
    file,
    fetch: { argv: ['sh', '-c', last, 'mpop-logs', n, file, q.grep] },
    follow: { argv: ['sh', '-c', `${last}; tail -F -n 0 -- "$2" | grep --line-buffered -h ${g} -e "$3"`, 'mpop-logs', nf, file, q.grep] },
    nativeSince: false,
  };
}

/** dmesgReader reads the kernel ring buffer (dmesg -x, ISO times), with --level for a priority and grep on the node. */
export function dmesgReader(q: LogQuery): Reader {
  const n = String(windowed(q) ? Math.max(q.lines, SINCE_WINDOW) : q.lines);
  const g = grepFlags(q);
  const filter = q.grep === undefined ? '' : ` | grep ${g} -e "$2"`;
  const lineFilter = q.grep === undefined ? '' : ` | grep --line-buffered ${g} -e "$2"`;
  const level = q.priority === undefined ? '' : ` --level ${DMESG_LEVELS.slice(0, q.priority + 1).join(',')}`;
  const last = `dmesg -x --time-format iso${level}${filter} | tail -n "$1"`;
  const args = (count: string): string[] => ['mpop-logs', count, ...(q.grep !== undefined ? [q.grep] : [])];
  return {
    kind: 'dmesg',
    label: 'dmesg',
    unit: 'kernel',
    fetch: { argv: ['sh', '-c', last, ...args(n)] },
    follow: { argv: ['sh', '-c', `${last}; dmesg -x --time-format iso${level} --follow-new${lineFilter}`, ...args(String(q.lines))] },
    nativeSince: false,
  };
}

function containerReader(q: LogQuery, facts: NodeLogFacts, runtime: 'docker' | 'podman', name: string): Reader {
  const cutoff = sinceCutoff(q, facts);
  const until = untilCutoff(q, facts);
  const since = (cutoff !== undefined ? `--since ${Math.floor(cutoff / 1000)} ` : '') + (until !== undefined ? `--until ${Math.floor(until / 1000)} ` : '');
  // inspect first: a missing container or a stopped daemon is an error with its message, not an empty log
  const check = `"$1" inspect --type container -- "$3" >/dev/null || exit 3; `;
  const g = grepFlags(q);
  const mk = (follow: boolean): RemoteCommand =>
    q.grep === undefined
      ? { argv: ['sh', '-c', `${check}exec "$1" logs -t ${follow ? '-f ' : ''}${since}--tail "$2" -- "$3"`, 'mpop-logs', runtime, String(q.lines), name] }
      : {
          argv: [
            'sh',
            '-c',
            follow
              ? `${check}"$1" logs -t -f ${since}--tail "$2" -- "$3" 2>&1 | grep --line-buffered ${g} -e "$4"`
              : `${check}"$1" logs -t ${since}-- "$3" 2>&1 | grep ${g} -e "$4" | tail -n "$2"`,
            'mpop-logs',
            runtime,
            String(q.lines),
            name,
            q.grep,
          ],
        };
  return { kind: 'container', label: `${runtime} logs ${name}`, unit: name, fetch: mk(false), follow: mk(true), nativeSince: true };
}

const has = (facts: NodeLogFacts, file: string): boolean => facts.readable.has(file);

/** filesToProbe lists the files a source may read, for the probe to look at. */
export function filesToProbe(source: LogSource): string[] {
  if (source.kind === 'file') return [source.name!];
  if (source.kind === 'system' || source.kind === 'auth' || source.kind === 'nginx') return FILE_CANDIDATES[source.kind];
  return [];
}

/** missingFiles says why none of `files` can be read on a node: absent, unreadable, or not a file. */
function missingFiles(node: string, facts: NodeLogFacts, files: string[], what: string): MpopError {
  const unreadable = files.filter((f) => facts.unreadable.has(f));
  if (unreadable.length) return new MpopError('MPOP_REMOTE', `${what} on ${node}: ${unreadable.join(' and ')} cannot be read by the vssh daemon's user (permission denied)`);
  const notFile = files.filter((f) => facts.notFile.has(f));
  if (notFile.length) return new MpopError('MPOP_REMOTE', `${what} on ${node}: ${notFile.join(' and ')} is not a regular file`);
  return new MpopError('MPOP_REMOTE', `${what} on ${node}: no ${files.join(' or ')}`);
}

/**
 * planLogs chooses how a node's logs of `source` are read, from what the node has: journald where there is
 * a journal, else the classic files (with a note saying so); a source absent on the node is an MpopError
 * that says exactly what is missing.
 */
export function planLogs(node: string, source: LogSource, q: LogQuery, facts: NodeLogFacts): LogPlan {
  const notes: string[] = [];
  switch (source.kind) {
    case 'system':
    case 'auth': {
      if (facts.journal) return { readers: [journalReader(q, facts, source.kind === 'auth' ? 'journald (auth, authpriv)' : 'journald', source.kind === 'auth' ? ['SYSLOG_FACILITY=4', 'SYSLOG_FACILITY=10'] : [])], notes };
      const files = FILE_CANDIDATES[source.kind];
      const file = files.find((f) => has(facts, f));
      if (!file) throw missingFiles(node, facts, files, `no systemd journal and no ${source.kind} log`);
      notes.push(`no systemd journal on ${node}: read ${file}`);
      return { readers: [fileReader(q, file)], notes };
    }
    case 'kernel':
      if (facts.journal) return { readers: [journalReader(q, facts, 'journald (kernel)', ['-k'])], notes };
      if (!facts.tools.has('dmesg')) throw new MpopError('MPOP_REMOTE', `no kernel log on ${node}: no systemd journal and no dmesg`);
      notes.push(`no systemd journal on ${node}: read dmesg`);
      return { readers: [dmesgReader(q)], notes };
    case 'nginx': {
      const files = FILE_CANDIDATES.nginx.filter((f) => has(facts, f));
      if (!files.length) throw missingFiles(node, facts, FILE_CANDIDATES.nginx, 'no nginx logs');
      for (const f of FILE_CANDIDATES.nginx) if (!files.includes(f)) notes.push(`${node} has no readable ${f}`);
      return { readers: files.map((f) => fileReader(q, f)), notes };
    }
    case 'unit':
      if (!facts.journal) throw new MpopError('MPOP_REMOTE', `no systemd journal on ${node}, so no logs of the unit ${source.name} (a unit's logs live in journald)`);
      return { readers: [journalReader(q, facts, `journald (unit ${source.name})`, ['-u', source.name!])], notes };
    case 'file':
      if (!has(facts, source.name!)) throw missingFiles(node, facts, [source.name!], 'cannot read the log');
      return { readers: [fileReader(q, source.name!)], notes };
    case 'container': {
      const runtime = source.runtime ?? (facts.tools.has('docker') ? 'docker' : facts.tools.has('podman') ? 'podman' : undefined);
      if (!runtime || !facts.tools.has(runtime)) throw new MpopError('MPOP_REMOTE', source.runtime ? `no ${source.runtime} on ${node}` : `no docker or podman on ${node}`);
      return { readers: [containerReader(q, facts, runtime, source.name!)], notes };
    }
  }
}

/**
 * parseSince reads --since: a span back from now ("90s", "15m", "1h", "2d") measured by each node's clock,
 * or a moment: ISO 8601 ("2026-12-02T06:00:00Z"; without a zone, the controller's local time), or "@EPOCH".
 */
export function parseSince(text: string): NonNullable<LogQuery['since']> {
  const t = text.trim();
  const span = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|hour|hours|d|day|days|w)?( ago)?$/.exec(t);
  if (span) {
    const unit: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000, hours: 3_600_000, d: 86_400_000, day: 86_400_000, days: 86_400_000, w: 604_800_000 };
    return { agoMs: Math.round(Number(span[1]) * unit[span[2] ?? 's']!) };
  }
  if (/^@\d+$/.test(t)) return { atMs: Number(t.slice(1)) * 1000 };
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) {
    const ms = Date.parse(t.includes(' ') && !/[T]/.test(t) ? t.replace(' ', 'T') : t);
    if (Number.isFinite(ms)) return { atMs: ms };
  }
  throw new MpopError('MPOP_USAGE', `--since "${text}" is neither a span (30m, 1h, 2d) nor a moment (2026-12-02T06:00:00Z, @1764655200)`);
}
