import { MpopError } from '../errors.js';
import type { MonitorDb } from './db.js';

/** TREND_METRICS are what `mpop trend` can plot. */
export const TREND_METRICS = ['cpu', 'mem', 'disk', 'load'] as const;
/** TrendMetric is one of TREND_METRICS. */
export type TrendMetric = (typeof TREND_METRICS)[number];

/** TrendBucket is one slice of the range: min, weighted average and max of what was stored in it (null: no data). */
export interface TrendBucket {
  start: string;
  min: number | null;
  avg: number | null;
  max: number | null;
  /** how many samples it stands for */
  samples: number;
}

/** Trend is a node's metric over a range, as a table of buckets and their summary. */
export interface Trend {
  node: string;
  metric: TrendMetric;
  unit: '%' | 'load1';
  mount: string | null;
  from: string;
  to: string;
  bucketMs: number;
  buckets: TrendBucket[];
  min: number | null;
  avg: number | null;
  max: number | null;
  samples: number;
  sparkline: string;
}

/** TrendQuery is what to read. */
export interface TrendQuery {
  node: string;
  metric: TrendMetric;
  /** disk only (default /) */
  mount?: string;
  hours?: number;
  /** how many buckets the range is cut into (default 24) */
  buckets?: number;
  now?: number;
}

const SOURCES: Record<TrendMetric, { table: 'samples' | 'disks'; expr: string }> = {
  cpu: { table: 'samples', expr: 'cpu' },
  load: { table: 'samples', expr: 'load1' },
  mem: { table: 'samples', expr: 'CASE WHEN mem_total > 0 THEN 100.0 * (mem_total - mem_avail) / mem_total END' },
  disk: { table: 'disks', expr: 'use_pct' },
};

/** trend reads a metric of a node back from the monitor DB (an indexed range query on node and time). */
export function trend(db: MonitorDb, q: TrendQuery): Trend {
  const hours = q.hours ?? 24;
  if (!(hours > 0)) throw new MpopError('MPOP_USAGE', `--hours must be above 0 (got ${hours})`);
  const count = Math.max(1, Math.min(500, Math.floor(q.buckets ?? 24)));
  const now = q.now ?? Date.now();
  const from = now - hours * 3_600_000;
  const bucketMs = Math.max(1000, Math.ceil((now - from) / count));
  const src = SOURCES[q.metric];
  const mount = q.metric === 'disk' ? (q.mount ?? '/') : null;
  const known = db.prepare(`SELECT 1 FROM ${src.table} WHERE node = ? LIMIT 1`).get(q.node);
  if (!known) throw new MpopError('MPOP_MONITOR', `no samples of ${q.node} in the monitor DB: is it monitored (mpop monitor ${q.node})?`);
  if (mount !== null && !db.prepare('SELECT 1 FROM disks WHERE node = ? AND mount = ? LIMIT 1').get(q.node, mount)) {
    const mounts = (db.prepare('SELECT DISTINCT mount FROM disks WHERE node = ? ORDER BY mount').all(q.node) as { mount: string }[]).map((r) => r.mount);
    throw new MpopError('MPOP_USAGE', `${q.node} has no samples of mount ${mount}; its mounts: ${mounts.join(', ') || 'none'}`);
  }
  const rows = db
    .prepare(`SELECT CAST((t - @from) / @B AS INTEGER) AS i, min(v) AS min, sum(v * n) / sum(n) AS avg, max(v) AS max, sum(n) AS n FROM (SELECT t, n, ${src.expr} AS v FROM ${src.table} WHERE node = @node AND t >= @from AND t <= @now ${mount !== null ? 'AND mount = @mount' : ''}) WHERE v IS NOT NULL GROUP BY i ORDER BY i`)
    .all({ from, B: bucketMs, node: q.node, now, ...(mount !== null ? { mount } : {}) }) as { i: number; min: number; avg: number; max: number; n: number }[];
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);
  const buckets: TrendBucket[] = Array.from({ length: count }, (_, i) => ({ start: new Date(from + i * bucketMs).toISOString(), min: null, avg: null, max: null, samples: 0 }));
  for (const r of rows) {
    const b = buckets[Math.min(count - 1, r.i)]!;
    b.min = round(r.min);
    b.avg = round(r.avg);
    b.max = round(r.max);
    b.samples = r.n;
  }
  const filled = buckets.filter((b) => b.samples > 0);
  const total = filled.reduce((a, b) => a + b.samples, 0);
  return {
    node: q.node, metric: q.metric, unit: q.metric === 'load' ? 'load1' : '%', mount, from: new Date(from).toISOString(), to: new Date(now).toISOString(), bucketMs, buckets,
    min: filled.length ? Math.min(...filled.map((b) => b.min!)) : null,
    avg: total ? round(filled.reduce((a, b) => a + b.avg! * b.samples, 0) / total) : null,
    max: filled.length ? Math.max(...filled.map((b) => b.max!)) : null,
    samples: total,
    sparkline: sparkline(buckets.map((b) => b.avg), q.metric === 'load' ? undefined : [0, 100]),
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** sparkline draws values as ▁▂▃▄▅▆▇█ (a gap is a space), scaled to `range` or to the values' own min and max. */
export function sparkline(values: (number | null)[], range?: [number, number]): string {
  const known = values.filter((v): v is number => v !== null);
  if (!known.length) return ' '.repeat(values.length);
  const [lo, hi] = range ?? [Math.min(0, ...known), Math.max(...known)];
  const span = hi - lo || 1;
  return values.map((v) => (v === null ? ' ' : BARS[Math.max(0, Math.min(7, Math.round(((v - lo) / span) * 7)))]!)).join('');
}
