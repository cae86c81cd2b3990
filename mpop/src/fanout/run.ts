import type { Pool, VsshClient } from '@meshpop/vssh/client';
import { ErrorInfo, MpopError, errorInfo } from '../errors.js';

/** Outcome is how a node's part of a run ended. */
export type Outcome = 'ok' | 'failed' | 'unreachable' | 'timedout' | 'skipped' | 'cancelled';

/** OUTCOMES lists the outcomes in the order a recap shows them. */
export const OUTCOMES: readonly Outcome[] = ['ok', 'failed', 'unreachable', 'timedout', 'cancelled', 'skipped'];

/** NodeOutcome is one node's result: its outcome, what the task returned (when it returned), and why it failed. */
export interface NodeOutcome<T> {
  node: string;
  outcome: Outcome;
  value?: T;
  error?: ErrorInfo;
  /** whether the task changed something on the node (for @changed) */
  changed: boolean;
  durationMs: number;
}

/** Verdict is a task's own judgement of a value it returned (an exec that exited 3 returned, and failed). */
export interface Verdict {
  outcome: 'ok' | 'failed' | 'timedout';
  changed?: boolean;
  error?: ErrorInfo;
}

/** FanoutProgress is the state of a run, sent after each node starts or ends. */
export interface FanoutProgress {
  total: number;
  done: number;
  running: number;
  ok: number;
  failed: number;
  /** the node that just ended, when one did */
  last?: NodeOutcome<unknown>;
  /** the wave (batch) being run, from 1, and how many there are */
  wave: number;
  waves: number;
}

/** TaskContext is what a node's task gets: its pooled client and a signal that fires on timeout or cancel. */
export interface TaskContext {
  node: string;
  client: VsshClient;
  signal: AbortSignal;
}

/** FanoutOptions shape a run over many nodes. */
export interface FanoutOptions {
  /** how many nodes run at once (default 500) */
  concurrency?: number;
  /** per node: past it the node is `timedout` and its task is aborted; other nodes are not affected */
  timeoutMs?: number;
  /** rolling waves, like Ansible's serial: N nodes or "N%" of them per wave; the next wave starts when one ends */
  batch?: number | string;
  /** a first wave of a single node before the batches (deploy's canary) */
  canary?: boolean;
  /** start no new node once one has failed; the rest are `skipped` */
  stopOnError?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: FanoutProgress) => void;
}

/** FanoutResult is a whole run: one NodeOutcome per node, in the order given, and counts per outcome. */
export interface FanoutResult<T> {
  results: NodeOutcome<T>[];
  counts: Record<Outcome, number>;
  durationMs: number;
  /** why nodes were skipped, when the run stopped early */
  stopped?: string;
}

/** DEFAULT_CONCURRENCY lets a 500-node fleet run in one go. */
export const DEFAULT_CONCURRENCY = 500;
/** TIMEOUT_GRACE_MS is how long past its timeout a node has to say so itself (a remote timeout is signed; ours is not). */
export const TIMEOUT_GRACE_MS = 3000;

const UNREACHABLE = new Set(['VSSH_UNREACHABLE', 'VSSH_CONNECTION_LOST', 'VSSH_TLS', 'MPOP_UNREACHABLE']);

/** classify reads a thrown error as an outcome: unreachable, timed out, cancelled, or failed. */
export function classify(err: unknown, aborted: boolean): Outcome {
  const { code } = errorInfo(err);
  if (UNREACHABLE.has(code)) return 'unreachable';
  if (code === 'VSSH_TIMEOUT' || code === 'MPOP_TIMEOUT') return 'timedout';
  if (aborted || code === 'VSSH_CANCELLED' || code === 'MPOP_CANCELLED') return 'cancelled';
  return 'failed';
}

/** waves splits nodes into the run's waves: one wave of all of them, or batches (after a canary of one). */
export function waves<T>(items: T[], batch?: number | string, canary = false): T[][] {
  let size = items.length;
  if (batch !== undefined) {
    const text = String(batch).trim();
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
    if (!m || Number(m[1]) <= 0 || (m[2] === '%' && Number(m[1]) > 100)) throw new MpopError('MPOP_USAGE', `--batch "${text}" is not a count or a percentage (examples: 5, 25%)`);
    size = m[2] ? Math.max(1, Math.ceil((items.length * Number(m[1])) / 100)) : Math.floor(Number(m[1])) || 1;
  }
  const out: T[][] = [];
  let rest = items;
  if (canary && rest.length > 1) {
    out.push(rest.slice(0, 1));
    rest = rest.slice(1);
  }
  for (let i = 0; i < rest.length; i += Math.max(1, size)) out.push(rest.slice(i, i + Math.max(1, size)));
  return out;
}

/**
 * fanout runs `task` on every node over the pool's connections (one per node), at most `concurrency` at
 * once, wave by wave. A node's failure, timeout or loss is its own outcome: the others go on (unless
 * stopOnError). `judge` turns a returned value into ok/failed (default: ok, unchanged). It never throws
 * for a node's sake; it throws only when the options are wrong.
 */
export async function fanout<T>(pool: Pool, nodes: string[], task: (ctx: TaskContext) => Promise<T>, opts: FanoutOptions & { judge?: (value: T) => Verdict } = {}): Promise<FanoutResult<T>> {
  const started = performance.now();
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  const plan = waves(nodes.map((node, index) => ({ node, index })), opts.batch, opts.canary);
  const results: NodeOutcome<T>[] = new Array(nodes.length);
  const progress: FanoutProgress = { total: nodes.length, done: 0, running: 0, ok: 0, failed: 0, wave: 0, waves: plan.length };
  let stopped: string | undefined;
  // One listener on the run's signal aborts every running node (one per node would be 500 listeners on it).
  const running = new Set<AbortController>();
  const onRunAbort = (): void => {
    for (const ac of running) ac.abort();
  };
  opts.signal?.addEventListener('abort', onRunAbort, { once: true });

  const runOne = async (node: string): Promise<NodeOutcome<T>> => {
    const t0 = performance.now();
    const ac = new AbortController();
    running.add(ac);
    let timer: NodeJS.Timeout | undefined;
    try {
      if (opts.signal?.aborted) throw new MpopError('MPOP_CANCELLED', 'the run was cancelled before this node started');
      const work = (async () => task({ node, client: await pool.client(node), signal: ac.signal }))();
      const deadline =
        opts.timeoutMs !== undefined
          ? new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                ac.abort();
                reject(new MpopError('MPOP_TIMEOUT', `${node} did not finish within ${Math.round(opts.timeoutMs! / 1000)} s`));
              }, opts.timeoutMs! + TIMEOUT_GRACE_MS);
            })
          : undefined;
      work.catch(() => undefined); // its rejection after a timeout is expected and already reported
      const value = await (deadline ? Promise.race([work, deadline]) : work);
      const v = opts.judge ? opts.judge(value) : { outcome: 'ok' as const };
      return { node, outcome: v.outcome, value, ...(v.error ? { error: v.error } : {}), changed: v.changed ?? false, durationMs: performance.now() - t0 };
    } catch (err) {
      const outcome = classify(err, opts.signal?.aborted === true);
      return { node, outcome, error: errorInfo(err), changed: false, durationMs: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      running.delete(ac);
    }
  };

  try {
    for (const wave of plan) {
      progress.wave++;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < wave.length) {
          const { node, index } = wave[next++]!;
          if (stopped || opts.signal?.aborted) {
            results[index] = { node, outcome: opts.signal?.aborted ? 'cancelled' : 'skipped', ...(stopped ? { error: { code: 'MPOP_SKIPPED', message: stopped } } : {}), changed: false, durationMs: 0 };
            progress.done++;
            continue;
          }
          progress.running++;
          opts.onProgress?.({ ...progress });
          const r = await runOne(node);
          results[index] = r;
          progress.running--;
          progress.done++;
          if (r.outcome === 'ok') progress.ok++;
          else if (r.outcome !== 'skipped') {
            progress.failed++;
            if (opts.stopOnError && !stopped) stopped = `stopped after ${node} ${r.outcome === 'failed' ? 'failed' : `was ${r.outcome}`}${r.error ? `: ${r.error.message}` : ''}`;
          }
          opts.onProgress?.({ ...progress, last: r as NodeOutcome<unknown> });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, wave.length) }, worker));
    }
  } finally {
    opts.signal?.removeEventListener('abort', onRunAbort);
  }
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const r of results) counts[r.outcome]++;
  return { results, counts, durationMs: performance.now() - started, ...(stopped ? { stopped } : {}) };
}
