import type { Pool } from '@meshpop/vssh';
import type { FanoutOptions } from '../fanout/run.js';
import { DEFAULT_HEAL_CONFIG, type AlertRules } from '../heal/config.js';
import { MpopError, errorInfo } from '../errors.js';
import { evaluateAlerts, type AlertChange } from './alerts.js';
import { openMonitorDb } from './db.js';
import { DEFAULT_RETENTION, maintain, type MaintainResult, type RetentionPolicy } from './retention.js';
import { sampleRound, type NodeSample } from './sample.js';
import { insertRound } from './store.js';

/** MAX_STORE_FAILURES is how many rounds in a row may fail to be stored before the monitor gives up. */
export const MAX_STORE_FAILURES = 3;

/** MonitorOptions shape a monitor run. */
export interface MonitorOptions {
  /** the monitor.db file */
  db: string;
  /** the nodes to sample, asked again each round (the fleet may change) */
  nodes: () => string[] | Promise<string[]>;
  /** between the starts of two rounds (default 30 s) */
  intervalMs?: number;
  /** one round, then return */
  once?: boolean;
  retention?: RetentionPolicy;
  rules?: AlertRules;
  /** per node: a sample that takes longer is a down sample (default 20 s) */
  timeoutMs?: number;
  concurrency?: number;
  /** stops the run after the round in progress (which is finished and stored) */
  signal?: AbortSignal;
  onRound?: (r: RoundResult) => void;
  /** the round's fan-out progress (for a progress display) */
  onProgress?: FanoutOptions['onProgress'];
}

/** RoundResult is one stored round. */
export interface RoundResult {
  round: number;
  time: string;
  samples: NodeSample[];
  up: number;
  down: number;
  alerts: AlertChange[];
  maintenance: MaintainResult;
  durationMs: number;
  /** what went wrong this round without stopping the run (the fleet unreadable, the round not stored) */
  notes: string[];
}

/** MonitorSummary is a whole run, once it stopped. */
export interface MonitorSummary {
  rounds: number;
  db: string;
  last?: RoundResult;
  stoppedBy: 'once' | 'signal';
}

/**
 * runMonitor samples the nodes every interval into the monitor DB: a sysinfo per node (fan-out), one
 * transaction per round, alerts evaluated on the stored round, downsampling and retention applied.
 * It runs until `signal` fires (then it finishes the round in progress) or after one round with `once`.
 */
export async function runMonitor(pool: Pool, opts: MonitorOptions): Promise<MonitorSummary> {
  const db = openMonitorDb(opts.db, { create: true });
  const interval = opts.intervalMs ?? 30_000;
  const rules = opts.rules ?? DEFAULT_HEAL_CONFIG.monitor.alerts;
  const policy = opts.retention ?? DEFAULT_RETENTION;
  let rounds = 0;
  let last: RoundResult | undefined;
  let nodes: string[] = [];
  let failures = 0;
  try {
    for (;;) {
      const started = Date.now();
      const notes: string[] = [];
      try {
        nodes = await opts.nodes();
      } catch (err) {
        // A fleet file broken mid-run: keep sampling the nodes of the round before, and say so.
        if (!rounds) throw err;
        notes.push(`the fleet could not be read (${errorInfo(err).message}); sampling the ${nodes.length} node(s) of the round before`);
      }
      const samples = await sampleRound(pool, nodes, { timeoutMs: opts.timeoutMs ?? 20_000, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
      let alerts: AlertChange[] = [];
      let maintenance: MaintainResult = { merged: 0, buckets: 0, deleted: 0 };
      try {
        insertRound(db, samples);
        alerts = evaluateAlerts(db, samples, rules);
        maintenance = maintain(db, policy);
        failures = 0;
      } catch (err) {
        // A full disk or a locked file: this round is lost (its transaction rolled back); the next one tries again.
        if (++failures >= MAX_STORE_FAILURES) throw new MpopError('MPOP_MONITOR', `cannot write ${opts.db} (${MAX_STORE_FAILURES} rounds in a row): ${errorInfo(err).message}`, { cause: err });
        notes.push(`round not stored: ${errorInfo(err).message}`);
      }
      rounds++;
      last = { round: rounds, time: new Date(started).toISOString(), samples, up: samples.filter((s) => s.up).length, down: samples.filter((s) => !s.up).length, alerts, maintenance, durationMs: Date.now() - started, notes };
      opts.onRound?.(last);
      if (opts.once) return { rounds, db: opts.db, last, stoppedBy: 'once' };
      if (opts.signal?.aborted) break;
      await sleep(Math.max(0, started + interval - Date.now()), opts.signal);
      if (opts.signal?.aborted) break;
    }
    return { rounds, db: opts.db, ...(last ? { last } : {}), stoppedBy: 'signal' };
  } finally {
    db.close();
  }
}

/** sleep waits `ms`, or until the signal fires. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
