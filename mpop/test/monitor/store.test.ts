import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMonitorDb, type MonitorDb } from '../../src/monitor/db.js';
import { maintain, parseDownsample, DEFAULT_RETENTION } from '../../src/monitor/retention.js';
import { downSample, type NodeSample } from '../../src/monitor/sample.js';
import { insertRound } from '../../src/monitor/store.js';
import { sparkline, trend } from '../../src/monitor/trend.js';

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

/** sample builds a synthetic up sample with cpu and / use %. */
function sample(node: string, t: number, cpu: number, disk = 50): NodeSample {
  return {
    node, t, up: true, cpu, load: [cpu / 100, 0.5, 0.25], cores: 2, memTotal: 1000, memUsed: 600, memAvail: 400, swapTotal: 0, swapUsed: 0, netRx: t, netTx: t, rttMs: 3,
    disks: [{ mount: '/', usePct: disk, used: disk, total: 100, inodesPct: 10 }],
  };
}

const count = (db: MonitorDb, sql: string, ...p: unknown[]): number => (db.prepare(sql).get(...p) as { c: number }).c;

describe('monitor.db: downsampling, retention, trend, damaged files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mpop-monitor-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('folds old raw rows into 5-minute then hourly averages, deletes past retention, and a second pass changes nothing', () => {
    const file = join(dir, 'ds.db');
    const db = openMonitorDb(file, { create: true });
    // 40 days of a sample a minute for n1 would be big: a sample every 10 min for 40 d, every 30 s in the last hour.
    const round: NodeSample[] = [];
    for (let t = NOW - 40 * 24 * H; t < NOW - H; t += 10 * 60_000) round.push(sample('n1', t, (t / 600_000) % 2 ? 20 : 40));
    for (let t = NOW - H; t < NOW; t += 30_000) round.push(sample('n1', t, 10));
    round.push(downSample('n1', NOW - 2 * 24 * H + 1, { code: 'VSSH_UNREACHABLE', message: 'refused' }));
    insertRound(db, round);
    const raw = count(db, 'SELECT count(*) AS c FROM samples');
    const r = maintain(db, DEFAULT_RETENTION, NOW);
    expect(r.deleted).toBeGreaterThan(0);
    expect(count(db, 'SELECT count(*) AS c FROM samples WHERE t < ?', NOW - 30 * 24 * H)).toBe(0);
    expect(count(db, 'SELECT count(*) AS c FROM disks WHERE t < ?', NOW - 30 * 24 * H)).toBe(0);
    // raw rows only in the last 24 h; 5-min buckets between 24 h and 7 d; hourly before
    expect(count(db, 'SELECT count(*) AS c FROM samples WHERE res = 0 AND t < ?', NOW - 24 * H)).toBe(0);
    expect(count(db, 'SELECT count(*) AS c FROM samples WHERE res = 300 AND t < ?', NOW - 7 * 24 * H)).toBe(0);
    expect(count(db, 'SELECT count(*) AS c FROM samples WHERE res = 3600')).toBeGreaterThan(20 * 24);
    expect(count(db, 'SELECT count(*) AS c FROM samples')).toBeLessThan(raw);
    // an hourly bucket holds 6 samples (one each 10 min), averaged: 20 and 40 alternate
    const hourly = db.prepare('SELECT n, up_n, cpu, t FROM samples WHERE res = 3600 ORDER BY t LIMIT 1 OFFSET 5').get() as { n: number; up_n: number; cpu: number; t: number };
    expect(hourly.n).toBe(6);
    expect(hourly.up_n).toBe(6);
    expect(hourly.cpu).toBeCloseTo(30, 5);
    expect(hourly.t % H).toBe(0);
    // the down sample went into its 5-min bucket: up_n 0, cpu null (not a fake 0)
    const down = db.prepare('SELECT n, up_n, cpu FROM samples WHERE res = 300 AND t <= ? AND t + 300000 > ?').get(NOW - 2 * 24 * H + 1, NOW - 2 * 24 * H + 1) as { n: number; up_n: number; cpu: number | null };
    expect(down.n).toBe(down.up_n + 1);
    // disks too
    expect(count(db, 'SELECT count(*) AS c FROM disks WHERE res = 3600')).toBeGreaterThan(0);
    const samplesNow = count(db, 'SELECT count(*) AS c FROM samples');
    const again = maintain(db, DEFAULT_RETENTION, NOW);
    expect(again).toEqual({ merged: 0, buckets: 0, deleted: 0 });
    expect(count(db, 'SELECT count(*) AS c FROM samples')).toBe(samplesNow);
    // trend reads the coarse buckets and the raw rows alike, weighted
    const week = trend(db, { node: 'n1', metric: 'cpu', hours: 24 * 10, buckets: 10, now: NOW });
    expect(week.buckets).toHaveLength(10);
    expect(week.samples).toBeGreaterThan(1000);
    expect(week.max).toBeCloseTo(40, 5);
    expect(week.min).toBeCloseTo(10, 5);
    db.close();
  });

  it('trend: buckets, min/avg/max, a sparkline with gaps, and clear errors for an unknown node or mount', () => {
    const file = join(dir, 'trend.db');
    const db = openMonitorDb(file, { create: true });
    insertRound(db, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((cpu, i) => sample('n1', NOW - (11 - i) * H + 60_000, cpu, cpu)));
    const t = trend(db, { node: 'n1', metric: 'cpu', hours: 12, buckets: 12, now: NOW });
    expect(t.buckets[0]!.samples).toBe(0);
    expect(t.buckets.slice(1).map((b) => b.avg)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(t.sparkline).toBe(' ▁▂▂▃▄▅▅▆▇▇█');
    expect([t.min, t.avg, t.max]).toEqual([0, 50, 100]);
    const mem = trend(db, { node: 'n1', metric: 'mem', hours: 12, now: NOW });
    expect(mem.avg).toBe(60);
    const disk = trend(db, { node: 'n1', metric: 'disk', mount: '/', hours: 12, now: NOW });
    expect(disk.max).toBe(100);
    expect(() => trend(db, { node: 'nope', metric: 'cpu', now: NOW })).toThrow(/no samples of nope/);
    expect(() => trend(db, { node: 'n1', metric: 'disk', mount: '/var', now: NOW })).toThrow(/no samples of mount \/var; its mounts: \//);
    expect(sparkline([null, null])).toBe('  ');
    expect(sparkline([1, 2, 3, 4])).toBe('▃▅▆█');
    expect(sparkline([5, 5], [0, 100])).toBe('▁▁');
    db.close();
  });

  it('a truncated, a foreign and a garbage file give a clear error and are left byte for byte as they were', () => {
    const good = join(dir, 'good.db');
    const db = openMonitorDb(good, { create: true });
    insertRound(db, [sample('n1', NOW, 5)]);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const truncated = join(dir, 'truncated.db');
    copyFileSync(good, truncated);
    truncateSync(truncated, 50);
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'x'.repeat(5000));
    const foreign = join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('CREATE TABLE notes (x)');
    f.close();
    const cut = join(dir, 'cut.db');
    copyFileSync(good, cut);
    truncateSync(cut, statSync(good).size - 4096 > 100 ? statSync(good).size - 4096 : 200);
    for (const [file, msg] of [[truncated, /truncated/], [garbage, /not a SQLite database/], [foreign, /not mpop's monitor.db/], [cut, /damaged|malformed|disk image/]] as const) {
      const before = readFileSync(file);
      let err: unknown;
      try {
        openMonitorDb(file, { create: true }).close();
      } catch (e) {
        err = e;
      }
      expect(err, file).toMatchObject({ code: 'MPOP_MONITOR' });
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).toContain('left as it is');
      expect(readFileSync(file).equals(before), file).toBe(true);
    }
    expect(() => openMonitorDb(join(dir, 'absent.db'))).toThrow(/no monitor history yet/);
  });

  it('a newer schema is refused, not rewritten', () => {
    const file = join(dir, 'newer.db');
    openMonitorDb(file, { create: true }).close();
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    expect(() => openMonitorDb(file)).toThrow(/schema version 99, newer/);
  });

  it('--downsample is read and checked', () => {
    expect(parseDownsample(['7d=1h', '24h=5m'], 30 * 24 * H)).toEqual([{ afterMs: 24 * H, bucketMs: 300_000 }, { afterMs: 7 * 24 * H, bucketMs: H }]);
    expect(parseDownsample(['24h=5m,7d=1h'], 30 * 24 * H)).toHaveLength(2);
    expect(() => parseDownsample(['1h'], 30 * 24 * H)).toThrow(/AGE=BUCKET/);
    expect(() => parseDownsample(['40d=1h'], 30 * 24 * H)).toThrow(/already gone/);
    expect(() => parseDownsample(['1d=1h', '2d=5m'], 30 * 24 * H)).toThrow(/coarser/);
    expect(() => parseDownsample(['1d=soon'], 30 * 24 * H)).toThrow(/not a duration/);
  });
});

describe('alert rules on synthetic rounds', () => {
  it('a mount that goes away resolves its alert; a round with no disk reading at all keeps it', async () => {
    const { evaluateAlerts, listAlerts } = await import('../../src/monitor/alerts.js');
    const dir = mkdtempSync(join(tmpdir(), 'mpop-alerts-'));
    try {
      const db = openMonitorDb(join(dir, 'a.db'), { create: true });
      const rules = { disk: 90, memory: 10, load: 2, loadSamples: 3, unreachableRounds: 2 };
      const two = (t: number, disks: NodeSample['disks']): NodeSample[] => [{ ...sample('n1', t, 5), disks }];
      const full = { mount: '/data', usePct: 95, used: 95, total: 100, inodesPct: 1 };
      const root = { mount: '/', usePct: 10, used: 10, total: 100, inodesPct: 1 };
      for (const [t, disks] of [[1, [root, full]], [2, []], [3, [root]]] as const) {
        const round = two(NOW + t * 1000, [...disks]);
        insertRound(db, round);
        evaluateAlerts(db, round, rules);
        const open = listAlerts(db).map((a) => `${a.rule}:${a.subject}`);
        expect(open, `round ${t}`).toEqual(t < 3 ? ['disk:/data'] : []);
      }
      expect(listAlerts(db, { all: true })[0]!.message).toMatch(/95% full/);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
