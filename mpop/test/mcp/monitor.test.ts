import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEAL_CONFIG } from '../../src/heal/config.js';
import { changesOf } from '../../src/mcp/tools/monitor.js';
import { evaluateAlerts } from '../../src/monitor/alerts.js';
import { openMonitorDb } from '../../src/monitor/db.js';
import type { NodeSample } from '../../src/monitor/sample.js';
import { insertRound } from '../../src/monitor/store.js';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';

type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
const H = 3_600_000;

/** sample is a synthetic up sample: cpu, memory available (of 1000), and / and /var use %. */
function sample(node: string, t: number, cpu: number, o: { memAvail?: number; root?: number; varPct?: number } = {}): NodeSample {
  return {
    node, t, up: true, cpu, load: [0.2, 0.2, 0.2], cores: 2, memTotal: 1000, memUsed: 1000 - (o.memAvail ?? 250), memAvail: o.memAvail ?? 250, swapTotal: 0, swapUsed: 0, netRx: 0, netTx: 0, rttMs: 1,
    disks: [
      { mount: '/', usePct: o.root ?? 40, used: 40, total: 100, inodesPct: 5 },
      { mount: '/var', usePct: o.varPct ?? 80, used: 80, total: 100, inodesPct: 5 },
    ],
  };
}

describe('mpop-mcp monitoring toolset: trend and alerts from a real monitor.db, watch over loopback daemons', () => {
  let fleet: Fleet;
  let client: Client;
  let dbFile: string;
  let t0: number;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    dbFile = join(fleet.home, 'mpop', 'monitor.db');
    client = await mcpClient(fleet, ['--toolsets', 'core,monitoring', '--deadline', '120'], { name: 'monitor-agent' });
    await client.listTools();
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await fleet?.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as R;

  it('lists the three tools with honest annotations (database reads are local, watch reads the fleet)', async () => {
    const tools = (await client.listTools()).tools.filter((t) => ['mpop_trend', 'mpop_alerts', 'mpop_watch'].includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual(['mpop_alerts', 'mpop_trend', 'mpop_watch']);
    for (const t of tools) {
      expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: t.name === 'mpop_watch' });
      expect(t.outputSchema, t.name).toBeTruthy();
      for (const [k, v] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) expect(v.description, `${t.name}.${k}`).toBeTruthy();
    }
  });

  it('without a monitor database, trend and alerts say how to start the monitor instead of an empty answer', async () => {
    for (const [name, args] of [['mpop_trend', { node: 'n1' }], ['mpop_alerts', {}]] as const) {
      const r = await call(name, args);
      expect(r.isError, name).toBe(true);
      expect(r.structuredContent, name).toBeUndefined();
      expect(r.content[0]!.text, name).toContain('mpop monitor');
      expect(r.content[0]!.text, name).toContain('mpop install-service monitor');
      expect(r.content[0]!.text, name).toContain(dbFile);
    }
  });

  it('trend buckets what the monitor library stored: min, weighted average and max per hour, gaps as nulls', async () => {
    t0 = Date.now();
    const db = openMonitorDb(dbFile, { create: true });
    try {
      // 6 hours back: bucket i (one hour) holds 5 samples around its middle, cpu base-2..base+2 with base = 10(i+1);
      // bucket 2 is left empty (the node was not sampled then)
      const round: NodeSample[] = [];
      for (let i = 0; i < 6; i++) {
        if (i === 2) continue;
        const mid = t0 - 6 * H + (i + 0.5) * H;
        for (let k = -2; k <= 2; k++) round.push(sample('n1', mid + k * 5 * 60_000, 10 * (i + 1) + k, { root: 40 + i }));
      }
      insertRound(db, round);
    } finally {
      db.close();
    }
    const r = await call('mpop_trend', { node: 'n1', metric: 'cpu', hours: 6, buckets: 6 });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const t = r.structuredContent;
    expect(t).toMatchObject({ node: 'n1', metric: 'cpu', unit: '%', mount: null, samples: 25, min: 8, max: 62, db: dbFile });
    expect(t.buckets).toHaveLength(6);
    for (let i = 0; i < 6; i++) {
      const b = t.buckets[i];
      if (i === 2) expect(b, `bucket ${i}`).toEqual({ start: b.start, min: null, avg: null, max: null, samples: 0 });
      else expect(b, `bucket ${i}`).toMatchObject({ min: 10 * (i + 1) - 2, avg: 10 * (i + 1), max: 10 * (i + 1) + 2, samples: 5 });
    }
    expect(t.avg).toBeCloseTo((10 + 20 + 40 + 50 + 60) / 5, 5);
    expect(t.sparkline).toHaveLength(6);
    expect(t.sparkline[2]).toBe(' ');
    expect(Date.parse(t.to) - Date.parse(t.from)).toBe(6 * H);
    expect(r.content[0]!.text).toContain('n1 cpu');
    const disk = await call('mpop_trend', { node: 'n1', metric: 'disk', mount: '/', hours: 6, buckets: 6 });
    expect(disk.structuredContent.buckets.map((b: { avg: number | null }) => b.avg)).toEqual([40, 41, null, 43, 44, 45]);
    const mem = await call('mpop_trend', { node: 'n1', metric: 'mem', hours: 6, buckets: 3 });
    expect(mem.structuredContent.buckets.map((b: { avg: number | null }) => b.avg)).toEqual([75, 75, 75]);
  });

  it('trend refuses what it cannot answer, plainly: an unmonitored node, a mount it lacks, a mount without disk', async () => {
    const unknown = await call('mpop_trend', { node: 'n9' });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toMatch(/no samples of n9/);
    expect(unknown.content[0]!.text).toContain('samples of: n1');
    const mount = await call('mpop_trend', { node: 'n1', metric: 'disk', mount: '/nope' });
    expect(mount.isError).toBe(true);
    expect(mount.content[0]!.text).toContain('/, /var');
    const wrong = await call('mpop_trend', { node: 'n1', metric: 'cpu', mount: '/var' });
    expect(wrong.isError).toBe(true);
    expect(wrong.content[0]!.text).toContain('MPOP_USAGE');
    for (const args of [{ node: 'n1', metric: 'bogus' }, { node: 'n1', hours: -1 }, { node: 'n1', buckets: 0 }, {}]) {
      const bad = await call('mpop_trend', args);
      expect(bad.isError, JSON.stringify(args)).toBe(true);
    }
    expect((await call('mpop_trend', { node: 'n1', hours: 6 })).isError).toBeFalsy();
  });

  it('alerts are the ones the monitor library raised and resolved: firing by default, history with all', async () => {
    const db = openMonitorDb(dbFile, { create: true });
    const rules = DEFAULT_HEAL_CONFIG.monitor.alerts;
    try {
      // round 1: n1's / is 95% full, n2 has 5% of its memory available; round 2: n1's / is back to 50%
      const r1 = [sample('n1', t0 - 120_000, 10, { root: 95 }), sample('n2', t0 - 120_000, 10, { memAvail: 50 })];
      insertRound(db, r1);
      expect(evaluateAlerts(db, r1, rules).map((c) => `${c.change} ${c.alert.node} ${c.alert.rule}`).sort()).toEqual(['raised n1 disk', 'raised n2 memory']);
      const r2 = [sample('n1', t0 - 60_000, 10, { root: 50 }), sample('n2', t0 - 60_000, 10, { memAvail: 40 })];
      insertRound(db, r2);
      expect(evaluateAlerts(db, r2, rules).map((c) => `${c.change} ${c.alert.node} ${c.alert.rule}`)).toEqual(['resolved n1 disk']);
    } finally {
      db.close();
    }
    const firing = await call('mpop_alerts');
    expect(firing.isError, firing.content[0]?.text).toBeFalsy();
    expect(firing.structuredContent.firing).toBe(1);
    expect(firing.structuredContent.alerts).toHaveLength(1);
    expect(firing.structuredContent.alerts[0]).toMatchObject({ node: 'n2', rule: 'memory', firing: true, resolvedAt: null, value: 4, threshold: 10 });
    expect(Date.parse(firing.structuredContent.lastRound)).toBe(t0 - 60_000);
    expect(firing.content[0]!.text).toContain('1 firing');
    expect(firing.content[0]!.text).not.toContain('note:');
    const all = await call('mpop_alerts', { all: true });
    expect(all.structuredContent.alerts.map((a: { node: string; rule: string; firing: boolean; subject: string }) => `${a.node} ${a.rule} ${a.subject} ${a.firing}`).sort()).toEqual(['n1 disk / false', 'n2 memory  true']);
    const resolved = all.structuredContent.alerts.find((a: { node: string }) => a.node === 'n1');
    expect(Date.parse(resolved.resolvedAt)).toBe(t0 - 60_000);
    expect(Date.parse(resolved.since)).toBe(t0 - 120_000);
    const n1 = await call('mpop_alerts', { node: 'n1' });
    expect(n1.structuredContent).toMatchObject({ alerts: [], firing: 0 });
    expect(n1.content[0]!.text).toContain('no alerts firing on n1');
  });

  it('watch samples the nodes now, round after round, with progress; a node down is its own answer', async () => {
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const started = Date.now();
    const r = (await client.callTool({ name: 'mpop_watch', arguments: { target: 'n1,gone1', rounds: 3, intervalSeconds: 1 } }, undefined, { onprogress: (p) => progress.push(p), timeout: 120_000 })) as R;
    expect(r.isError).toBe(true); // gone1 never answered
    const s = r.structuredContent;
    expect(s).toMatchObject({ target: 'n1,gone1', rounds: 3, intervalSeconds: 1 });
    const n1 = s.nodes.find((n: { node: string }) => n.node === 'n1');
    expect(n1.values.map((v: { round: number; up: boolean }) => [v.round, v.up])).toEqual([[1, true], [2, true], [3, true]]);
    const times = n1.values.map((v: { t: string }) => Date.parse(v.t));
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(900);
    expect(times[2]).toBeLessThanOrEqual(Date.now());
    expect(times[0]).toBeGreaterThanOrEqual(started - 1000);
    // n1 is this machine: its readings are this machine's
    const last = n1.values[2];
    expect(last.cores).toBeGreaterThan(0);
    expect(last.memPercent).toBeGreaterThan(0);
    expect(last.memPercent).toBeLessThan(100);
    expect(last.disks.some((d: { mount: string }) => d.mount === '/')).toBe(true);
    expect(n1.values[0].netRxBps).toBeNull(); // no rate before a second reading
    const gone = s.nodes.find((n: { node: string }) => n.node === 'gone1');
    expect(gone.values.every((v: { up: boolean; error?: { code: string } }) => !v.up && v.error?.code)).toBe(true);
    expect(gone.changes).toHaveLength(1);
    expect(gone.changes[0]).toMatch(/^unreachable in all 3 round\(s\)/);
    expect(r.content[0]!.text).toMatch(/gone1: unreachable in all 3/);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toMatchObject({ progress: 3, total: 3 });
    expect(progress.some((p) => /round 2\/3: 1 up, 1 down/.test(p.message ?? ''))).toBe(true);
  }, 120_000);

  it('cancelling a watch stops it between rounds (the audit shows the call ended soon after)', async () => {
    const ac = new AbortController();
    const pending = client.callTool({ name: 'mpop_watch', arguments: { target: 'n1', rounds: 60, intervalSeconds: 1 } }, undefined, { signal: ac.signal, onprogress: (p) => void (p.progress >= 1 && ac.abort()), timeout: 120_000 });
    await expect(pending).rejects.toThrow();
    const cancelledAt = Date.now();
    // the server goes on serving, and the watch it was asked to stop is recorded as ended within a few rounds
    let entry: { tool: string; durationMs: number } | undefined;
    for (let i = 0; i < 100 && !entry; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const lines = readFileSync(join(fleet.home, 'mpop', 'mcp-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string; durationMs: number; args: { rounds?: number } });
      entry = lines.filter((l) => l.tool === 'mpop_watch' && l.args.rounds === 60).at(-1);
    }
    expect(entry, 'the cancelled watch was recorded').toBeTruthy();
    expect(entry!.durationMs).toBeLessThan(15_000);
    expect(Date.now() - cancelledAt).toBeLessThan(20_000);
    expect((await call('mpop_alerts')).isError).toBeFalsy();
  }, 120_000);

  it('watch refuses bad arguments and the server keeps serving', async () => {
    for (const args of [{ rounds: 0 }, { rounds: 1000 }, { intervalSeconds: 0 }, { target: '' }, { target: 'nosuchnode' }]) {
      const r = await call('mpop_watch', args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
    }
    const ok = await call('mpop_watch', { target: 'n2', rounds: 1 });
    expect(ok.isError, ok.content[0]?.text).toBeFalsy();
    expect(ok.structuredContent.nodes[0].changes).toEqual([]);
    expect(ok.content[0]!.text).toContain('one round: nothing to compare');
  }, 60_000);
});

describe('changesOf', () => {
  const v = (round: number, up: boolean, cpu: number | null, disks: { mount: string; usePct: number }[] = [{ mount: '/', usePct: 40 }]) => ({ round, t: '', up, cpu, memPercent: 50, load1: 0.1, cores: 2, disks, rttMs: 1, netRxBps: null, netTxBps: null, ...(up ? {} : { error: { code: 'VSSH_UNREACHABLE', message: 'refused' } }) });
  it('reports down and back up, and first-to-last moves past the steps only', () => {
    expect(changesOf([v(1, true, 5), v(2, true, 9), v(3, true, 12)])).toEqual([]);
    expect(changesOf([v(1, true, 5), v(2, false, null), v(3, true, 80, [{ mount: '/', usePct: 42 }, { mount: '/mnt', usePct: 1 }])])).toEqual([
      'went down at round 2 (VSSH_UNREACHABLE: refused)',
      'back up at round 3',
      'cpu 5% -> 80%',
      'disk / 40% -> 42%',
      'mount /mnt appeared (1%)',
    ]);
    expect(changesOf([v(1, false, null), v(2, false, null)])).toEqual(['unreachable in all 2 round(s): refused']);
  });
});
