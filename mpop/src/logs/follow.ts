import type { Pool } from '@meshpop/vssh';
import { MpopError } from '../errors.js';
import { fanout, type FanoutOptions, type FanoutResult } from '../fanout/run.js';
import { containerEntry, dmesgEntry, journalEntry, lineTime, type LogEntry } from './parse.js';
import { checkQuery } from './fetch.js';
import { filesToProbe, planLogs, sinceCutoff, type LogQuery, type Reader } from './plan.js';
import { probeNode, type NodeLogFacts } from './probe.js';
import type { LogSource } from './source.js';

/** FollowValue is how a node's follow ended: what it read and how many entries it streamed. */
export interface FollowValue {
  sources: string[];
  entries: number;
  notes: string[];
  /** the remote readers ended on their own (a file's tail does not; a container that stops does) */
  ended: boolean;
}

/** FollowOptions: where the entries go as they come, and the run's signal (Ctrl-C) that ends every node's readers. */
export interface FollowOptions extends FanoutOptions {
  onEntry: (node: string, entry: LogEntry) => void;
  /** a node's note (the fallback it took, a reader's complaint), said when it happens */
  onNote?: (node: string, note: string) => void;
}

/** LineReader turns a reader's stream into entries, line by line (a partial line waits for its end). */
function lineReader(reader: Reader, facts: NodeLogFacts, stream: 'stdout' | 'stderr', emit: (e: LogEntry) => void): { push(b: Buffer): void; flush(): void } {
  let rest = '';
  let last: number | undefined;
  const one = (line: string): void => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (reader.kind === 'journal') {
      const e = journalEntry(line);
      if (e) emit(e);
    } else if (reader.kind === 'dmesg') emit(dmesgEntry(line, facts));
    else if (reader.kind === 'container') emit(containerEntry(line, stream, reader.unit!, facts));
    else {
      const t = lineTime(line, facts);
      if (t) last = t.ms;
      emit({ ...(last !== undefined ? { time: new Date(last).toISOString() } : {}), ...(t?.priority !== undefined ? { priority: t.priority } : {}), message: line, file: reader.file! });
    }
  };
  return {
    push(b) {
      const lines = (rest + b.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const l of lines) one(l);
    },
    flush() {
      if (rest) one(rest);
      rest = '';
    },
  };
}

/**
 * followFleet streams `source` from every node at once (journalctl --follow, tail -F, dmesg --follow-new,
 * docker/podman logs -f over one vssh exec per reader) until the signal fires (Ctrl-C), which cancels the
 * remote readers: the node kills their process group. A node that drops is its own outcome (unreachable)
 * and the others go on. The result says how each node ended (cancelled is the normal end).
 */
export function followFleet(pool: Pool, nodes: string[], source: LogSource, q: LogQuery, opts: FollowOptions): Promise<FanoutResult<FollowValue>> {
  checkQuery(q);
  return fanout<FollowValue>(
    pool,
    nodes,
    async ({ node, client, signal }) => {
      const facts = await probeNode(client, filesToProbe(source), signal);
      const plan = planLogs(node, source, q, facts);
      const notes = [...plan.notes];
      for (const n of plan.notes) opts.onNote?.(node, n);
      const cutoff = sinceCutoff(q, facts);
      let count = 0;
      const emit = (e: LogEntry): void => {
        if (cutoff !== undefined && e.time && Date.parse(e.time) < cutoff) return;
        count++;
        opts.onEntry(node, e);
      };
      // One reader failing ends the node's others too (no remote tail is left behind).
      const ac = new AbortController();
      const onAbort = (): void => ac.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let failure: MpopError | undefined;
      await Promise.allSettled(
        plan.readers.map(async (reader) => {
          const out = lineReader(reader, facts, 'stdout', emit);
          const err = reader.kind === 'container' ? lineReader(reader, facts, 'stderr', emit) : undefined;
          let complaint = '';
          const r = await client.exec(reader.follow, {
            signal: ac.signal,
            onStdout: (b) => out.push(b),
            onStderr: (b) => {
              if (err) err.push(b);
              else {
                complaint += b.toString('utf8');
                const lines = complaint.split('\n');
                complaint = lines.pop()!;
                for (const l of lines) if (l.trim()) (notes.push(`${reader.label}: ${l.trim()}`), opts.onNote?.(node, `${reader.label}: ${l.trim()}`));
              }
            },
          });
          out.flush();
          err?.flush();
          if (r.exitCode !== 0 && !ac.signal.aborted) {
            failure ??= new MpopError('MPOP_REMOTE', `${reader.label} ended on ${node} (exit ${r.exitCode ?? r.signal})${complaint.trim() ? `: ${complaint.trim()}` : ''}`);
            ac.abort();
          }
        }).map((p) =>
          p.catch((e: unknown) => {
            // The node cancelling a stream we did not cancel is the node going away (its daemon stopped).
            const lost = (e as { code?: string }).code === 'VSSH_CANCELLED' && !ac.signal.aborted;
            if (!signal.aborted) failure ??= lost ? new MpopError('MPOP_UNREACHABLE', `${node} dropped the stream: ${(e as Error).message}`) : (e as MpopError);
            ac.abort();
          }),
        ),
      );
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) throw new MpopError('MPOP_CANCELLED', `following ${node} was stopped`);
      if (failure) throw failure;
      return { sources: plan.readers.map((r) => r.label), entries: count, notes, ended: true };
    },
    opts,
  );
}
