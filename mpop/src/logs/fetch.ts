import type { Pool, VsshClient } from '@meshpop/vssh';
import { MpopError } from '../errors.js';
import { fanout, type FanoutOptions, type FanoutResult } from '../fanout/run.js';
import { byTime, containerEntry, dmesgEntry, fileEntries, journalEntry, splitLines, type LogEntry, type TimeContext } from './parse.js';
import { filesToProbe, planLogs, SINCE_WINDOW, sinceCutoff, untilCutoff, type LogQuery, type Reader } from './plan.js';
import { probeNode, type NodeLogFacts } from './probe.js';
import type { LogSource } from './source.js';

/** LogsValue is what one node gave: the sources read, its entries in time order, and notes for people. */
export interface LogsValue {
  /** what was read: "journald", "/var/log/syslog", "dmesg", ... */
  sources: string[];
  entries: LogEntry[];
  notes: string[];
}

/** MAX_LOG_BYTES caps what one reader sends back from a node. */
export const MAX_LOG_BYTES = 32 * 1024 * 1024;

/** parseReaderOutput reads a reader's output into entries. */
export function parseReaderOutput(reader: Reader, stdout: string, stderr: string, ctx: TimeContext): { entries: LogEntry[]; timed: number } {
  switch (reader.kind) {
    case 'journal': {
      // The journal's order is its sequence numbers; two streams' entries can be out of time order there.
      const entries = byTime(splitLines(stdout).map(journalEntry).filter((e): e is LogEntry => e !== undefined));
      return { entries, timed: entries.length };
    }
    case 'dmesg': {
      const entries = splitLines(stdout).map((l) => dmesgEntry(l, ctx));
      return { entries, timed: entries.filter((e) => e.time).length };
    }
    case 'container': {
      const out = splitLines(stdout).map((l) => containerEntry(l, 'stdout', reader.unit!, ctx));
      const err = splitLines(stderr).map((l) => containerEntry(l, 'stderr', reader.unit!, ctx));
      const entries = byTime([...out, ...err]);
      return { entries, timed: entries.filter((e) => e.time).length };
    }
    case 'file':
      return fileEntries(stdout, reader.file!, ctx);
  }
}

/** readOnce runs one reader on a node and returns its entries, with --since applied and the last `lines` kept. */
export async function readOnce(node: string, client: VsshClient, reader: Reader, q: LogQuery, facts: NodeLogFacts, signal: AbortSignal): Promise<{ entries: LogEntry[]; notes: string[] }> {
  const r = await client.exec(reader.fetch, { signal, maxOutputBytes: MAX_LOG_BYTES, timeoutMs: 120_000 });
  const stdout = r.stdout.toString('utf8');
  const stderr = r.stderr.toString('utf8');
  const notes: string[] = [];
  // Container stderr is the container's own output; anything else on stderr is the reader's complaint.
  const complaint = reader.kind === 'container' ? '' : stderr.trim();
  // journalctl --grep exits 1 when nothing matched, saying nothing: that is an empty answer, not a failure.
  const noMatch = reader.kind === 'journal' && r.exitCode === 1 && !stdout.trim() && !complaint;
  if ((r.exitCode !== 0 && !noMatch) || (complaint && !stdout)) {
    const why = (reader.kind === 'container' ? stderr : complaint).trim().split('\n').slice(-3).join(' / ').slice(0, 400);
    const what = reader.fetch && 'argv' in reader.fetch ? reader.fetch.argv[0] : 'the reader';
    throw new MpopError('MPOP_REMOTE', `reading ${reader.label} on ${node} failed (${what === 'sh' ? 'exit' : `${what} exited`} ${r.exitCode ?? r.signal})${why ? `: ${why}` : ''}`);
  }
  if (complaint) notes.push(`${reader.label} on ${node}: ${complaint.split('\n')[0]!.slice(0, 200)}`);
  if (r.truncated) notes.push(`${reader.label} on ${node}: output cut at ${MAX_LOG_BYTES} bytes`);
  let { entries, timed } = parseReaderOutput(reader, stdout, stderr, facts);
  const cutoff = sinceCutoff(q, facts);
  if (cutoff !== undefined && !reader.nativeSince) {
    if (entries.length && timed === 0) notes.push(`--since not applied to ${reader.label} on ${node}: its lines carry no timestamp mpop can read`);
    else {
      if (entries.length >= SINCE_WINDOW && entries[0]?.time && Date.parse(entries[0].time) >= cutoff) notes.push(`${reader.label} on ${node}: only its last ${SINCE_WINDOW} lines were searched for --since`);
      entries = entries.filter((e) => e.time === undefined || Date.parse(e.time) >= cutoff);
    }
  }
  const until = untilCutoff(q, facts);
  if (until !== undefined && !reader.nativeSince) {
    if (entries.length && timed === 0) notes.push(`until not applied to ${reader.label} on ${node}: its lines carry no timestamp mpop can read`);
    else entries = entries.filter((e) => e.time === undefined || Date.parse(e.time) <= until);
  }
  // journalctl -p and dmesg --level choose by priority themselves; other lines only when they name a level.
  if (q.priority !== undefined && reader.kind !== 'journal' && reader.kind !== 'dmesg') {
    if (entries.length && !entries.some((e) => e.priority !== undefined)) notes.push(`priority not applied to ${reader.label} on ${node}: its lines name no level mpop can read`);
    else entries = entries.filter((e) => e.priority === undefined || e.priority <= q.priority!);
  }
  if (entries.length > q.lines) entries = entries.slice(-q.lines);
  return { entries, notes };
}

/** LogsOptions are the fan-out options of a logs read. */
export type LogsOptions = FanoutOptions;

/**
 * logsFleet reads `source` on every node at once: a probe of what the node has (one exec), then its
 * readers (journalctl -o json, tail -n, grep, dmesg, docker/podman logs). Each node's entries come back
 * in time order; a node without the source is `failed` with a message naming what is missing.
 */
export function logsFleet(pool: Pool, nodes: string[], source: LogSource, q: LogQuery, opts: LogsOptions = {}): Promise<FanoutResult<LogsValue>> {
  checkQuery(q);
  return fanout<LogsValue>(
    pool,
    nodes,
    async ({ node, client, signal }) => {
      const facts = await probeNode(client, filesToProbe(source), signal);
      const plan = planLogs(node, source, q, facts);
      const parts = await Promise.all(plan.readers.map((r) => readOnce(node, client, r, q, facts, signal)));
      const entries = plan.readers.length > 1 ? byTime(parts.flatMap((p) => p.entries)) : parts[0]!.entries;
      return { sources: plan.readers.map((r) => r.label), entries, notes: [...plan.notes, ...parts.flatMap((p) => p.notes)] };
    },
    opts,
  );
}

/** checkQuery refuses a query that cannot be run: no lines, an empty or multi-line pattern. */
export function checkQuery(q: LogQuery): void {
  if (!Number.isInteger(q.lines) || q.lines < 1 || q.lines > 1_000_000) throw new MpopError('MPOP_USAGE', `--lines ${q.lines} is not a whole number from 1 to 1000000`);
  if (q.priority !== undefined && !(Number.isInteger(q.priority) && q.priority >= 0 && q.priority <= 7)) throw new MpopError('MPOP_USAGE', `priority ${q.priority} is not a syslog level from 0 (emerg) to 7 (debug)`);
  if (q.grep !== undefined && (q.grep === '' || /[\n\r\0]/.test(q.grep))) throw new MpopError('MPOP_USAGE', '--grep needs a non-empty pattern on one line');
  if (q.grep !== undefined && !q.fixed) {
    try {
      new RegExp(q.grep);
    } catch {
      throw new MpopError('MPOP_USAGE', `--grep "${q.grep}" is not a valid regular expression (use --fixed-strings for a plain string)`);
    }
  }
}
