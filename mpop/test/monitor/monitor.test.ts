import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEAL_CONFIG } from '../../src/heal/config.js';
import { listAlerts } from '../../src/monitor/alerts.js';
import { openMonitorDb, SCHEMA_VERSION } from '../../src/monitor/db.js';
import { runMonitor, type RoundResult } from '../../src/monitor/monitor.js';
import { parseDfInodes, parseNetDev } from '../../src/monitor/sample.js';
import { Fleet, loopFleet } from '../fleet.js';

describe('mpop monitor over real loopback daemons', () => {
  let fleet: Fleet;
  let db: string;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('down1');
    db = join(fleet.home, 'mpop', 'monitor.db');
  });
  afterAll(() => fleet?.close());

  it('a round stores a row per node (the down one as down, with why), each disk, in WAL mode with a schema version', async () => {
    const rounds: RoundResult[] = [];
    const s = await runMonitor(fleet.pool, { db, nodes: () => ['n1', 'n2', 'down1'], once: true, timeoutMs: 5000, onRound: (r) => rounds.push(r) });
    expect(s.rounds).toBe(1);
    expect(rounds[0]!.up).toBe(2);
    expect(rounds[0]!.down).toBe(1);
    const d = openMonitorDb(db);
    try {
      expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(d.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
      const rows = d.prepare('SELECT node, up_n, cpu, load1, cores, mem_total, mem_avail, rtt_ms, net_rx, error FROM samples ORDER BY node').all() as Record<string, unknown>[];
      expect(rows.map((r) => [r.node, r.up_n])).toEqual([['down1', 0], ['n1', 1], ['n2', 1]]);
      const n1 = rows.find((r) => r.node === 'n1')!;
      expect(n1.cores).toBeGreaterThan(0);
      expect(n1.mem_total).toBeGreaterThan(n1.mem_avail as number);
      expect(n1.rtt_ms).toBeGreaterThan(0);
      expect(typeof n1.net_rx).toBe('number');
      expect(rows.find((r) => r.node === 'down1')!.error).toMatch(/VSSH_UNREACHABLE|refused|ECONNREFUSED/i);
      expect(rows.find((r) => r.node === 'down1')!.cpu).toBeNull();
      const disks = d.prepare("SELECT mount, use_pct, inodes_pct FROM disks WHERE node = 'n1'").all() as { mount: string; use_pct: number; inodes_pct: number | null }[];
      expect(disks.map((x) => x.mount)).toContain('/');
      expect(disks.find((x) => x.mount === '/')!.inodes_pct).not.toBeNull();
      expect(d.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'samples_node_t'").get()).toBeTruthy();
    } finally {
      d.close();
    }
  });

  it('a node unreachable for 2 rounds raises an alert; it resolves when the node is back, and the history stays', async () => {
    await fleet.stop('n2');
    const rules = { ...DEFAULT_HEAL_CONFIG.monitor.alerts, unreachableRounds: 2 };
    const r1 = await runMonitor(fleet.pool, { db, nodes: () => ['n1', 'n2'], once: true, rules, timeoutMs: 5000 });
    expect(r1.last!.alerts.filter((a) => a.alert.node === 'n2')).toEqual([]); // one round down: not yet
    const r2 = await runMonitor(fleet.pool, { db, nodes: () => ['n1', 'n2'], once: true, rules, timeoutMs: 5000 });
    expect(r2.last!.alerts.map((a) => [a.change, a.alert.node, a.alert.rule])).toContainEqual(['raised', 'n2', 'unreachable']);
    const d = openMonitorDb(db);
    expect(listAlerts(d).map((a) => [a.node, a.rule, a.firing])).toContainEqual(['n2', 'unreachable', true]);
    d.close();
    // still down: the same alert, not a second one
    await runMonitor(fleet.pool, { db, nodes: () => ['n2'], once: true, rules, timeoutMs: 5000 });
    await fleet.start('n2');
    const r4 = await runMonitor(fleet.pool, { db, nodes: () => ['n1', 'n2'], once: true, rules, timeoutMs: 5000 });
    expect(r4.last!.alerts.map((a) => [a.change, a.alert.node, a.alert.rule])).toContainEqual(['resolved', 'n2', 'unreachable']);
    const d2 = openMonitorDb(db);
    try {
      expect(listAlerts(d2).filter((a) => a.node === 'n2')).toEqual([]);
      const hist = listAlerts(d2, { all: true }).filter((a) => a.node === 'n2' && a.rule === 'unreachable');
      expect(hist).toHaveLength(1);
      expect(hist[0]!.resolvedAt).not.toBeNull();
      expect(Date.parse(hist[0]!.resolvedAt!)).toBeGreaterThan(Date.parse(hist[0]!.since));
    } finally {
      d2.close();
    }
  });

  it('disk, memory and load thresholds raise and resolve alerts per mount and node', async () => {
    const fire = { disk: 0, memory: 100, load: 0.000001, loadSamples: 1, unreachableRounds: 2 };
    const r = await runMonitor(fleet.pool, { db, nodes: () => ['n1'], once: true, rules: fire, timeoutMs: 5000 });
    const raised = r.last!.alerts.filter((a) => a.change === 'raised').map((a) => `${a.alert.rule}:${a.alert.subject}`);
    expect(raised).toContain('disk:/');
    expect(raised).toContain('memory:');
    const calm = { disk: 100, memory: 0, load: 1000, loadSamples: 1, unreachableRounds: 2 };
    const r2 = await runMonitor(fleet.pool, { db, nodes: () => ['n1'], once: true, rules: calm, timeoutMs: 5000 });
    const resolved = r2.last!.alerts.filter((a) => a.change === 'resolved').map((a) => `${a.alert.rule}:${a.alert.subject}`);
    expect(resolved).toEqual(expect.arrayContaining(['disk:/', 'memory:']));
    const d = openMonitorDb(db);
    expect(listAlerts(d, { node: 'n1' })).toEqual([]);
    d.close();
  });

  it('load fires only after loadSamples samples in a row over the limit', async () => {
    const rules = { disk: 100, memory: 0, load: 0.000001, loadSamples: 3, unreachableRounds: 2 };
    const fresh = join(fleet.home, 'mpop', 'load.db');
    const raised: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runMonitor(fleet.pool, { db: fresh, nodes: () => ['n1'], once: true, rules, timeoutMs: 5000 });
      raised.push(r.last!.alerts.filter((a) => a.change === 'raised').map((a) => a.alert.rule));
    }
    expect(raised).toEqual([[], [], ['load']]);
    const d = openMonitorDb(fresh);
    expect(listAlerts(d)[0]).toMatchObject({ rule: 'load', firing: true, message: expect.stringMatching(/load1 is [\d.]+, above [\d.e-]+ .* for 3 samples/) });
    d.close();
  });

  it('two monitors writing the same file at once both get their rounds in', async () => {
    const file = join(fleet.home, 'mpop', 'two.db');
    openMonitorDb(file, { create: true }).close();
    const runs = await Promise.all([0, 1, 2].map(() => runMonitor(fleet.pool, { db: file, nodes: () => ['n1'], once: true, timeoutMs: 5000 })));
    expect(runs.map((r) => r.rounds)).toEqual([1, 1, 1]);
    const d = openMonitorDb(file);
    expect(d.prepare('SELECT count(*) AS c FROM samples').get()).toEqual({ c: 3 });
    d.close();
  });

  it('stops after the round in progress when the signal fires, and keeps that round', async () => {
    const ac = new AbortController();
    const d0 = openMonitorDb(db);
    const before = (d0.prepare("SELECT count(*) AS c FROM samples WHERE node = 'n1'").get() as { c: number }).c;
    d0.close();
    const s = await runMonitor(fleet.pool, { db, nodes: () => ['n1'], intervalMs: 60_000, timeoutMs: 5000, signal: ac.signal, onRound: () => ac.abort() });
    expect(s.stoppedBy).toBe('signal');
    expect(s.rounds).toBe(1);
    const d = openMonitorDb(db);
    expect((d.prepare("SELECT count(*) AS c FROM samples WHERE node = 'n1'").get() as { c: number }).c).toBe(before + 1);
    d.close();
  });

  it('a full disk loses rounds, not the file: each says so, and after 3 in a row the monitor stops with MPOP_MONITOR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpop-full-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    try {
      const file = join(dir, 'monitor.db');
      const fillUp = (): void => void execFileSync('sh', ['-c', `dd if=/dev/zero of=${dir}/fill bs=4k 2>/dev/null; true`]);
      const notes: string[] = [];
      // the disk fills up after the first round, while the monitor holds the file open
      const err = await runMonitor(fleet.pool, { db: file, nodes: () => ['n1', 'n2'], intervalMs: 50, timeoutMs: 5000, onRound: (r) => (r.round === 1 ? fillUp() : notes.push(...r.notes)) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MPOP_MONITOR', message: expect.stringMatching(/cannot write .*monitor\.db \(3 rounds in a row\): .*(full|disk|I\/O)/i) });
      expect(notes.filter((n) => n.startsWith('round not stored'))).toHaveLength(2);
      // opening a file on a full disk says so, and never "damaged"
      const again = await runMonitor(fleet.pool, { db: file, nodes: () => ['n1'], once: true, timeoutMs: 5000 }).then(() => undefined, (e: unknown) => e as Error);
      if (again) {
        expect(again.message).toMatch(/cannot (open|write) .*(full|disk|I\/O)/i);
        expect(again.message).not.toMatch(/damaged|move it aside/);
      }
      rmSync(join(dir, 'fill'));
      const d = openMonitorDb(file);
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
      // the first round whole, the lost ones not at all
      expect(d.prepare("SELECT count(*) AS c FROM samples WHERE node = 'n2'").get()).toEqual(d.prepare("SELECT count(*) AS c FROM samples WHERE node = 'n1'").get());
      expect((d.prepare("SELECT count(*) AS c FROM samples WHERE node = 'n1'").get() as { c: number }).c).toBeLessThanOrEqual(2);
      d.close();
    } finally {
      await execa('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a fleet that cannot be read mid-run keeps the nodes of the round before', async () => {
    let calls = 0;
    const notes: string[][] = [];
    const ac = new AbortController();
    await runMonitor(fleet.pool, {
      db, intervalMs: 10, timeoutMs: 5000, signal: ac.signal,
      nodes: () => {
        if (calls++ === 0) return ['n1'];
        throw new Error('inventory.yaml:3: broken');
      },
      onRound: (r) => {
        notes.push(r.notes);
        if (r.round === 2) {
          expect(r.samples.map((x) => x.node)).toEqual(['n1']);
          ac.abort();
        }
      },
    });
    expect(notes[1]![0]).toMatch(/the fleet could not be read \(inventory.yaml:3: broken\); sampling the 1 node/);
  });

  it('parses df -i and /proc/net/dev (lo left out)', () => {
    expect(parseDfInodes('Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 100 25 75 25% /\nproc 0 0 0 - /proc\nx 10 1 9 10% /mnt/with space\n')).toEqual(new Map([['/', 25], ['/mnt/with space', 10]]));
    const net = readFileSync('/proc/net/dev', 'utf8');
    expect(parseNetDev(net)).not.toBeNull();
    expect(parseNetDev('Inter-|   Receive\n face |bytes\n    lo: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n  eth0: 100 1 0 0 0 0 0 0 200 1 0 0 0 0 0 0\n')).toEqual({ rx: 100, tx: 200 });
    expect(parseNetDev('garbage')).toBeNull();
    expect(existsSync(db)).toBe(true);
  });
});
