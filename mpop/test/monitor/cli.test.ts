import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet, MPOP_BIN } from '../fleet.js';
import { openMonitorDb } from '../../src/monitor/db.js';

/** json parses a command's stdout. */
const json = <T = Record<string, unknown>>(r: { stdout: unknown }): T => JSON.parse(String(r.stdout)) as T;

describe('mpop monitor, trend, alerts, heal and install-service (the built CLI)', () => {
  let fleet: Fleet;
  let db: string;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('down1');
    db = join(fleet.home, 'mpop', 'monitor.db');
  });
  afterAll(() => fleet?.close());

  it('monitor --once --json samples the fleet; trend and alerts read it back', async () => {
    mkdirSync(join(fleet.home, 'mpop'), { recursive: true });
    writeFileSync(join(fleet.home, 'mpop', 'heal.yaml'), 'monitor:\n  alerts: {disk: 0, unreachableRounds: 1}\n');
    const r = await fleet.mpop(['monitor', '--once', '--json', '--timeout', '5s']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const s = json<{ rounds: number; last: { up: number; down: number; alerts: { change: string; alert: { node: string; rule: string } }[] } }>(r);
    expect(s.rounds).toBe(1);
    expect([s.last.up, s.last.down]).toEqual([2, 1]);
    expect(s.last.alerts.map((a) => `${a.alert.node}:${a.alert.rule}`)).toEqual(expect.arrayContaining(['down1:unreachable', 'n1:disk']));
    const plain = await fleet.mpop(['monitor', 'n1', '--once']);
    expect(plain.stdout).toMatch(/^round 1 {2}\S+ {2}1 up/);

    const t = await fleet.mpop(['trend', 'n1', '--metric', 'mem', '--hours', '1', '--buckets', '6']);
    expect(t.exitCode, String(t.stderr)).toBe(0);
    expect(t.stdout).toMatch(/FROM\s+MIN\s+AVG\s+MAX\s+SAMPLES/);
    expect(t.stdout).toMatch(/n1 mem {2}[ ▁▂▃▄▅▆▇█]{6} {2}min \d+\.\d% {2}avg \d+\.\d% {2}max \d+\.\d% {2}\(2 samples, last 1 h\)/);
    const tj = json<{ metric: string; samples: number; buckets: unknown[] }>(await fleet.mpop(['trend', 'n1', '--metric', 'disk', '--mount', '/', '--json']));
    expect(tj).toMatchObject({ metric: 'disk', samples: 2 });
    expect(tj.buckets).toHaveLength(24);

    const a = await fleet.mpop(['alerts', '--json']);
    expect(a.exitCode).toBe(1); // something fires
    expect(json<{ firing: number }>(a).firing).toBeGreaterThanOrEqual(2);
    const ap = await fleet.mpop(['alerts']);
    expect(ap.stdout).toMatch(/firing\s+down1\s+unreachable/);
  });

  it('bad input is a clear error with its exit code, never a stack', async () => {
    const cases: [string[], number, RegExp][] = [
      [['trend', 'nope', '--metric', 'cpu'], 1, /no samples of nope/],
      [['trend', 'n1', '--metric', 'disk', '--mount', '/nowhere'], 2, /no samples of mount \/nowhere; its mounts: /],
      [['trend', 'n1', '--hours', 'x'], 2, /--hours "x"/],
      [['trend', 'n1', '--metric', 'gpu'], 2, /Expected --metric=gpu to be one of/],
      [['monitor', '--interval', 'often', '--once'], 2, /--interval "often" is not a duration/],
      [['monitor', '--downsample', '1h', '--once'], 2, /AGE=BUCKET/],
      [['monitor', 'nosuch', '--once'], 3, /nosuch/],
      [['heal', 'n1', '--check', 'dsik'], 2, /no check "dsik"/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await fleet.mpop(args);
      expect(r.exitCode, args.join(' ')).toBe(code);
      expect(String(r.stderr), args.join(' ')).toMatch(msg);
      expect(String(r.stderr)).not.toMatch(/\n\s+at /);
    }
  });

  it('a bad heal.yaml stops monitor and heal with its line', async () => {
    const file = join(fleet.home, 'mpop', 'heal.yaml');
    const keep = readFileSync(file, 'utf8');
    writeFileSync(file, 'thresholds:\n  disk: 90\n  dsik: 1\n');
    try {
      for (const args of [['heal', 'n1'], ['monitor', '--once']]) {
        const r = await fleet.mpop(args);
        expect(r.exitCode).toBe(1);
        expect(String(r.stderr)).toMatch(/heal\.yaml:3: thresholds: unknown key "dsik"/);
      }
    } finally {
      writeFileSync(file, keep);
    }
  });

  it('a corrupt monitor.db is refused with what to do, and left as it was', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'mpop-broken-'));
    try {
      mkdirSync(join(broken, 'mpop'));
      const f = join(broken, 'mpop', 'monitor.db');
      writeFileSync(f, readFileSync(db).subarray(0, 60));
      const before = readFileSync(f);
      for (const args of [['trend', 'n1'], ['alerts'], ['monitor', '--once']]) {
        const r = await execa(process.execPath, [MPOP_BIN, ...args], { env: { ...fleet.env, MESHPOP_HOME: broken }, reject: false });
        expect(r.exitCode, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(/is not a SQLite database \(only 60 bytes: truncated\); it was left as it is: move it aside/);
      }
      expect(readFileSync(f).equals(before)).toBe(true);
      const none = await execa(process.execPath, [MPOP_BIN, 'alerts'], { env: { ...fleet.env, MESHPOP_HOME: join(broken, 'empty') }, reject: false });
      expect(none.stderr).toMatch(/no monitor history yet/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('SIGTERM lets the round in progress finish and exits 0 with the database intact', async () => {
    const child = execa(process.execPath, [MPOP_BIN, 'monitor', 'n1,n2', '--interval', '1s'], { env: fleet.env, reject: false });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if ((out.match(/^round /gm) ?? []).length >= 2) resolve();
      });
    });
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    const d = openMonitorDb(db);
    try {
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
      const last = d.prepare("SELECT t FROM samples WHERE node = 'n2' ORDER BY t DESC LIMIT 1").get() as { t: number };
      expect(d.prepare("SELECT count(*) AS c FROM samples WHERE t = ? AND node IN ('n1', 'n2')").get(last.t)).toEqual({ c: 2 }); // the round is whole
    } finally {
      d.close();
    }
  });

  it('kill -9 at any moment leaves whole rounds only: a round is one transaction', async () => {
    const child = execa(process.execPath, [MPOP_BIN, 'monitor', 'n1,n2', '--interval', '1s'], { env: fleet.env, reject: false });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if ((out.match(/^round /gm) ?? []).length >= 2) setTimeout(resolve, 700); // most likely inside the next round
      });
    });
    child.kill('SIGKILL');
    await child;
    const d = openMonitorDb(db);
    try {
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
      const partial = d.prepare("SELECT t, count(*) AS c FROM samples WHERE res = 0 AND node IN ('n1', 'n2') GROUP BY t HAVING count(*) = 1 AND t IN (SELECT t FROM samples WHERE node = 'n2')").all();
      expect(partial).toEqual([]);
      const disks = d.prepare("SELECT count(*) AS c FROM samples s WHERE s.node = 'n1' AND s.res = 0 AND s.up_n = 1 AND NOT EXISTS (SELECT 1 FROM disks k WHERE k.node = s.node AND k.t = s.t)").get();
      expect(disks).toEqual({ c: 0 });
    } finally {
      d.close();
    }
  });

  it('heal --json over the fleet: per-node checks, exit 1 when a problem is left, @failed saved', async () => {
    const r = await fleet.mpop(['heal', 'n1,down1', '--check', 'vssh', '--check', 'clock', '--json']);
    expect(r.exitCode).toBe(1);
    const h = json<{ nodes: { node: string; checks: { check: string; status: string; diagnosis: string }[] }[] }>(r);
    expect(h.nodes.find((n) => n.node === 'n1')!.checks.map((c) => [c.check, c.status])).toEqual([['vssh', 'ok'], ['clock', 'ok']]);
    // refused, as a rule; another process may have taken the freed port meanwhile (then: open but not vssh)
    expect(h.nodes.find((n) => n.node === 'down1')!.checks[0]).toMatchObject({ check: 'vssh', status: 'problem', diagnosis: expect.stringMatching(/down1's vssh daemon did not answer .*(connection refused|accepts connections)/) });
    const again = await fleet.mpop(['heal', '@failed', '--check', 'vssh']);
    expect(again.stdout).toMatch(/^down1\n/);
    expect(again.stdout).not.toMatch(/^n1$/m);
    const ok = await fleet.mpop(['heal', 'n1', '--check', 'clock']);
    expect(ok.exitCode, String(ok.stdout)).toBe(0);
    expect(ok.stdout).toMatch(/clock\s+ok\s+n1's clock is \d+ ms (ahead of|behind) the controller's/);
  });

});
