import { existsSync } from 'node:fs';
import { openMonitorDb } from '../monitor/db.js';

/** History is a node's monitor rows over a range, column by column as uPlot draws them (times in seconds). */
export interface History {
  node: string;
  from: string;
  to: string;
  /** one entry per stored row (raw samples and downsampled buckets alike) */
  t: number[];
  cpu: (number | null)[];
  mem: (number | null)[];
  load: (number | null)[];
  /** per mount: use % at the same times as `t` (null where the mount was not sampled) */
  disk: Record<string, (number | null)[]>;
  /** false when there is no monitor.db yet */
  monitored: boolean;
}

/** MAX_HISTORY_ROWS bounds the rows one history read returns (the newest are kept). */
export const MAX_HISTORY_ROWS = 5000;

/** readHistory reads a node's samples and disk rows from the monitor DB for the last `hours`. */
export function readHistory(dbFile: string, node: string, hours = 6, now = Date.now()): History {
  return readHistories(dbFile, [node], hours, now)[0]!;
}

/** readHistories is readHistory for several nodes, the database opened once for all of them. */
export function readHistories(dbFile: string, nodes: string[], hours = 6, now = Date.now()): History[] {
  const from = now - hours * 3_600_000;
  const empty = (node: string): History => ({ node, from: new Date(from).toISOString(), to: new Date(now).toISOString(), t: [], cpu: [], mem: [], load: [], disk: {}, monitored: false });
  if (!nodes.length || !existsSync(dbFile)) return nodes.map(empty);
  const db = openMonitorDb(dbFile, { readonly: true });
  try {
    const samples = db.prepare('SELECT t, cpu, load1, CASE WHEN mem_total > 0 THEN 100.0 * (mem_total - mem_avail) / mem_total END AS mem FROM samples WHERE node = ? AND t >= ? AND t <= ? ORDER BY t DESC LIMIT ?');
    const diskRows = db.prepare('SELECT t, mount, use_pct FROM disks WHERE node = ? AND t >= ? AND t <= ?');
    const r2 = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);
    return nodes.map((node) => {
      const rows = (samples.all(node, from, now, MAX_HISTORY_ROWS) as { t: number; cpu: number | null; load1: number | null; mem: number | null }[]).reverse();
      const out: History = { ...empty(node), monitored: true };
      const index = new Map<number, number>();
      for (const r of rows) {
        index.set(r.t, out.t.length);
        out.t.push(r.t / 1000);
        out.cpu.push(r2(r.cpu));
        out.mem.push(r2(r.mem));
        out.load.push(r2(r.load1));
      }
      if (rows.length) {
        for (const d of diskRows.all(node, rows[0]!.t, now) as { t: number; mount: string; use_pct: number | null }[]) {
          const i = index.get(d.t);
          if (i === undefined) continue;
          (out.disk[d.mount] ??= new Array<number | null>(out.t.length).fill(null))[i] = r2(d.use_pct);
        }
      }
      return out;
    });
  } finally {
    db.close();
  }
}

/**
 * downsample cuts a history to at most `points` rows: consecutive rows are averaged (nulls left out; a slice
 * with no value stays null) and stamped with the slice's last time, so the newest reading stays the last point.
 * At most `mounts` disk mounts are kept, / first.
 */
export function downsample(h: History, points: number, mounts = 4): History {
  const keep = Object.keys(h.disk).sort((a, b) => (a === '/' ? -1 : b === '/' ? 1 : a.localeCompare(b))).slice(0, mounts);
  const disk = Object.fromEntries(keep.map((m) => [m, h.disk[m]!]));
  const n = h.t.length;
  if (n <= points) return { ...h, disk };
  const size = Math.ceil(n / points);
  const cut = (col: (number | null)[]): (number | null)[] => {
    const out: (number | null)[] = [];
    for (let i = 0; i < n; i += size) {
      let sum = 0;
      let count = 0;
      for (let j = i; j < Math.min(n, i + size); j++) {
        const v = col[j];
        if (v !== null && v !== undefined) (sum += v), count++;
      }
      out.push(count ? Math.round((100 * sum) / count) / 100 : null);
    }
    return out;
  };
  const t: number[] = [];
  for (let i = 0; i < n; i += size) t.push(h.t[Math.min(n, i + size) - 1]!);
  return { ...h, t, cpu: cut(h.cpu), mem: cut(h.mem), load: cut(h.load), disk: Object.fromEntries(keep.map((m) => [m, cut(h.disk[m]!)])) };
}
