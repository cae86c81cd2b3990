import type { MonitorDb } from './db.js';
import type { NodeSample } from './sample.js';

/** insertRound writes one round (every node's sample and its disks) in one transaction. */
export function insertRound(db: MonitorDb, round: NodeSample[]): void {
  const row = db.prepare(`INSERT INTO samples (node, t, res, n, up_n, cpu, load1, load5, load15, cores, mem_total, mem_used, mem_avail, swap_total, swap_used, net_rx, net_tx, rtt_ms, error)
    VALUES (@node, @t, 0, 1, @up, @cpu, @load1, @load5, @load15, @cores, @memTotal, @memUsed, @memAvail, @swapTotal, @swapUsed, @netRx, @netTx, @rttMs, @error)`);
  const disk = db.prepare('INSERT INTO disks (node, t, res, n, mount, use_pct, used, total, inodes_pct) VALUES (?, ?, 0, 1, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const s of round) {
      row.run({
        node: s.node, t: s.t, up: s.up ? 1 : 0, cpu: s.cpu, load1: s.load?.[0] ?? null, load5: s.load?.[1] ?? null, load15: s.load?.[2] ?? null, cores: s.cores,
        memTotal: s.memTotal, memUsed: s.memUsed, memAvail: s.memAvail, swapTotal: s.swapTotal, swapUsed: s.swapUsed, netRx: s.netRx, netTx: s.netTx, rttMs: s.rttMs,
        error: s.error ? `${s.error.code}: ${s.error.message}` : null,
      });
      for (const d of s.disks) disk.run(s.node, s.t, d.mount, d.usePct, d.used, d.total, d.inodesPct);
    }
  }).immediate(); // take the write lock first: two writers wait (busy_timeout) instead of failing
}

/** RecentSample is a raw sample as the alert rules read it. */
export interface RecentSample {
  t: number;
  up: boolean;
  load1: number | null;
  cores: number | null;
  memAvail: number | null;
  memTotal: number | null;
}

/** recentSamples returns a node's last `count` raw samples, newest first. */
export function recentSamples(db: MonitorDb, node: string, count: number): RecentSample[] {
  const rows = db.prepare('SELECT t, up_n, load1, cores, mem_avail, mem_total FROM samples WHERE node = ? AND res = 0 ORDER BY t DESC LIMIT ?').all(node, count) as { t: number; up_n: number; load1: number | null; cores: number | null; mem_avail: number | null; mem_total: number | null }[];
  return rows.map((r) => ({ t: r.t, up: r.up_n > 0, load1: r.load1, cores: r.cores, memAvail: r.mem_avail, memTotal: r.mem_total }));
}

/** monitoredNodes lists the nodes the database has samples of. */
export function monitoredNodes(db: MonitorDb): string[] {
  return (db.prepare('SELECT DISTINCT node FROM samples ORDER BY node').all() as { node: string }[]).map((r) => r.node);
}
