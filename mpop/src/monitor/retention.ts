import { MpopError } from '../errors.js';
import { parseDuration } from '../cli/format.js';
import type { MonitorDb } from './db.js';

/** DownsampleStep says: rows older than `afterMs` are averaged into buckets of `bucketMs`. */
export interface DownsampleStep {
  afterMs: number;
  bucketMs: number;
}

/** RetentionPolicy is how long rows live and how they coarsen with age. */
export interface RetentionPolicy {
  retentionMs: number;
  steps: DownsampleStep[];
}

/** DEFAULT_RETENTION: raw for 24 h, 5-minute averages until 7 d, hourly after, nothing past 30 d. */
export const DEFAULT_RETENTION: RetentionPolicy = { retentionMs: 30 * 86_400_000, steps: [{ afterMs: 86_400_000, bucketMs: 300_000 }, { afterMs: 7 * 86_400_000, bucketMs: 3_600_000 }] };

/** parseDownsample reads "24h=5m,7d=1h" (older than 24 h: 5-minute buckets; older than 7 d: hourly) into steps, checked against the retention. */
export function parseDownsample(specs: string[], retentionMs: number): DownsampleStep[] {
  const steps = specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean).map((part) => {
    const m = /^([^=]+)=([^=]+)$/.exec(part);
    if (!m) throw new MpopError('MPOP_USAGE', `--downsample "${part}" is not AGE=BUCKET (example: 24h=5m,7d=1h: rows older than 24 h become 5-minute averages, older than 7 d hourly ones)`);
    return { afterMs: parseDuration(m[1]!, '--downsample age'), bucketMs: parseDuration(m[2]!, '--downsample bucket') };
  });
  steps.sort((a, b) => a.afterMs - b.afterMs);
  for (const [i, s] of steps.entries()) {
    if (s.bucketMs < 1000) throw new MpopError('MPOP_USAGE', `--downsample: a bucket of ${s.bucketMs} ms is too small (1s at least)`);
    if (s.afterMs >= retentionMs) throw new MpopError('MPOP_USAGE', `--downsample: rows older than ${s.afterMs / 1000} s are already gone with --retention ${retentionMs / 1000} s`);
    const prev = steps[i - 1];
    if (prev && s.bucketMs <= prev.bucketMs) throw new MpopError('MPOP_USAGE', '--downsample: older rows need coarser buckets (each bucket larger than the one before)');
  }
  return steps;
}

/** MaintainResult is what one pass of retention did. */
export interface MaintainResult {
  /** raw or finer rows folded into coarser buckets */
  merged: number;
  /** the buckets written */
  buckets: number;
  /** rows past retention deleted (samples, disks, resolved alerts) */
  deleted: number;
}

const avg = (c: string): string => `sum(s.${c} * s.n) / sum(CASE WHEN s.${c} IS NULL THEN 0 ELSE s.n END) AS ${c}`;
const SAMPLE_COLS = ['cpu', 'load1', 'load5', 'load15', 'mem_total', 'mem_used', 'mem_avail', 'swap_total', 'swap_used', 'rtt_ms'];
const DISK_COLS = ['use_pct', 'used', 'total', 'inodes_pct'];

/**
 * maintain downsamples and deletes in one transaction: for each step, every bucket that lies wholly before
 * now - afterMs and holds finer rows becomes one row (averages weighted by how many samples each row
 * stands for); then rows older than the retention go. Running it again changes nothing.
 */
export function maintain(db: MonitorDb, policy: RetentionPolicy, now = Date.now()): MaintainResult {
  const out: MaintainResult = { merged: 0, buckets: 0, deleted: 0 };
  db.transaction(() => {
    for (const step of policy.steps) {
      const B = step.bucketMs;
      const res = Math.round(B / 1000);
      const cut = Math.floor((now - step.afterMs) / B) * B;
      db.exec('CREATE TEMP TABLE IF NOT EXISTS ds_keys (node TEXT NOT NULL, mount TEXT NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (node, mount, b))');
      // samples
      db.prepare('DELETE FROM temp.ds_keys').run();
      db.prepare("INSERT OR IGNORE INTO temp.ds_keys SELECT node, '', CAST(t / :B AS INTEGER) * :B FROM samples WHERE res < :res AND t < :cut").run({ B, res, cut });
      const low = (db.prepare('SELECT min(b) AS b FROM temp.ds_keys').get() as { b: number | null }).b ?? cut;
      const join = `FROM samples s WHERE s.res <= :res AND s.t >= ${low} AND s.t < ${cut} AND (s.node, '', CAST(s.t / :B AS INTEGER) * :B) IN (SELECT node, mount, b FROM temp.ds_keys)`;
      const rows = db.prepare(`SELECT s.node AS node, CAST(s.t / :B AS INTEGER) * :B AS t, sum(s.n) AS n, sum(s.up_n) AS up_n, ${SAMPLE_COLS.map(avg).join(', ')}, max(s.cores) AS cores, max(s.net_rx) AS net_rx, max(s.net_tx) AS net_tx, count(*) AS c ${join} GROUP BY s.node, CAST(s.t / :B AS INTEGER)`).all({ B, res }) as Record<string, number | string | null>[];
      out.merged += db.prepare(`DELETE FROM samples WHERE rowid IN (SELECT s.rowid ${join})`).run({ B, res }).changes;
      const ins = db.prepare(`INSERT INTO samples (node, t, res, n, up_n, cores, net_rx, net_tx, ${SAMPLE_COLS.join(', ')}) VALUES (@node, @t, ${res}, @n, @up_n, @cores, @net_rx, @net_tx, ${SAMPLE_COLS.map((c) => '@' + c).join(', ')})`);
      for (const r of rows) {
        delete r.c;
        ins.run(r);
      }
      out.buckets += rows.length;
      // disks
      db.prepare('DELETE FROM temp.ds_keys').run();
      db.prepare('INSERT OR IGNORE INTO temp.ds_keys SELECT node, mount, CAST(t / :B AS INTEGER) * :B FROM disks WHERE res < :res AND t < :cut').run({ B, res, cut });
      const dlow = (db.prepare('SELECT min(b) AS b FROM temp.ds_keys').get() as { b: number | null }).b ?? cut;
      const djoin = `FROM disks s WHERE s.res <= :res AND s.t >= ${dlow} AND s.t < ${cut} AND (s.node, s.mount, CAST(s.t / :B AS INTEGER) * :B) IN (SELECT node, mount, b FROM temp.ds_keys)`;
      const drows = db.prepare(`SELECT s.node AS node, s.mount AS mount, CAST(s.t / :B AS INTEGER) * :B AS t, sum(s.n) AS n, ${DISK_COLS.map(avg).join(', ')} ${djoin} GROUP BY s.node, s.mount, CAST(s.t / :B AS INTEGER)`).all({ B, res }) as Record<string, number | string | null>[];
      out.merged += db.prepare(`DELETE FROM disks WHERE rowid IN (SELECT s.rowid ${djoin})`).run({ B, res }).changes;
      const dins = db.prepare(`INSERT INTO disks (node, mount, t, res, n, ${DISK_COLS.join(', ')}) VALUES (@node, @mount, @t, ${res}, @n, ${DISK_COLS.map((c) => '@' + c).join(', ')})`);
      for (const r of drows) dins.run(r);
      out.buckets += drows.length;
    }
    const old = now - policy.retentionMs;
    out.deleted += db.prepare('DELETE FROM samples WHERE t < ?').run(old).changes;
    out.deleted += db.prepare('DELETE FROM disks WHERE t < ?').run(old).changes;
    out.deleted += db.prepare('DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?').run(old).changes;
  }).immediate(); // take the write lock first: two writers wait (busy_timeout) instead of failing
  return out;
}
