import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEAL_CONFIG, type HealConfig } from '../../src/heal/config.js';
import { healFleet, type NodeHeal } from '../../src/heal/run.js';
import type { AuditEntry } from '../../src/heal/audit.js';
import { Fleet, loopFleet } from '../fleet.js';

const DAY = 86_400_000;

/** config builds a heal config pointing the disk check at `mnt`. */
function config(mnt: string, disk: Partial<HealConfig['disk']> = {}, extra: Partial<HealConfig> = {}): HealConfig {
  const c = structuredClone(DEFAULT_HEAL_CONFIG);
  c.thresholds.disk = 50;
  c.disk = { ...c.disk, mounts: [mnt], tmpDirs: [mnt], olderThanDays: 1, ...disk };
  return { ...c, ...extra };
}

const check = (h: NodeHeal, name: string) => h.checks.find((c) => c.check === name)!;
const auditLines = (file: string): AuditEntry[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry) : []);

describe('mpop heal over real loopback daemons and a real small filesystem', () => {
  let fleet: Fleet;
  let mnt: string;
  let audit: string;
  let mounted = false;
  beforeAll(async () => {
    fleet = await loopFleet(1);
    await fleet.addDown('down1');
    await fleet.addSilent('mute1');
    mnt = mkdtempSync(join(tmpdir(), 'mpop-heal-mnt-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    mounted = true;
    audit = join(fleet.home, 'mpop', 'audit.jsonl');
  });
  afterAll(async () => {
    if (mounted) await execa('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
    await fleet?.close();
  });

  /** fill writes an old 1.5 MiB file into the tmpfs (75% of it). */
  const fill = (): string => {
    mkdirSync(join(mnt, 'old'), { recursive: true });
    const f = join(mnt, 'old', 'big.bin');
    writeFileSync(f, Buffer.alloc(1536 * 1024, 1));
    utimesSync(f, new Date(Date.now() - 10 * DAY), new Date(Date.now() - 10 * DAY));
    return f;
  };

  it('every check says something on a live node; what cannot run here is unknown with why, never ok', async () => {
    const saved = process.env.PATH!;
    process.env.PATH = saved.split(':').filter((p) => !p.includes('node_modules')).join(':'); // no wire on the node's PATH
    const run = await healFleet(fleet.pool, ['n1'], { config: config(mnt), audit }).finally(() => (process.env.PATH = saved));
    const h = run.results[0]!.value!;
    expect(h.checks.map((c) => c.check)).toEqual(['vssh', 'disk', 'inodes', 'unit', 'mesh', 'load', 'memory', 'clock']);
    expect(check(h, 'vssh').status).toBe('ok');
    expect(check(h, 'disk').status).toBe('ok');
    expect(check(h, 'disk').evidence.mounts).toEqual([expect.objectContaining({ mount: mnt, fs: 'tmpfs', size: 2 * 1024 * 1024 })]);
    expect(check(h, 'inodes').status).toBe('ok');
    // this machine runs no systemd, and no wire on the PATH
    expect(check(h, 'unit')).toMatchObject({ status: 'unknown', diagnosis: expect.stringContaining('no systemd on n1') });
    expect(check(h, 'mesh')).toMatchObject({ status: 'unknown', diagnosis: expect.stringContaining("`wire` is not on n1's PATH") });
    expect(['ok', 'warn', 'problem']).toContain(check(h, 'load').status);
    expect(check(h, 'memory').evidence.source).toBe(existsSync('/proc/pressure/memory') ? 'psi' : 'available');
    expect(check(h, 'clock').status).toBe('ok');
    expect(Math.abs(check(h, 'clock').evidence.driftMs as number)).toBeLessThan(2000);
    expect(auditLines(audit)).toEqual([]);
  });

  it('a stopped daemon is refused, a silent port is open but mute; the other checks are unknown', async () => {
    const run = await healFleet(fleet.pool, ['down1', 'mute1'], { config: config(mnt), audit }, { timeoutMs: 20_000 });
    const [down, mute] = run.results;
    expect(down!.outcome).toBe('failed');
    expect(check(down!.value!, 'vssh')).toMatchObject({ status: 'problem', diagnosis: expect.stringContaining('connection refused') });
    expect(check(down!.value!, 'disk')).toMatchObject({ status: 'unknown', diagnosis: expect.stringContaining('did not answer') });
    expect(check(mute!.value!, 'vssh')).toMatchObject({ status: 'problem', diagnosis: expect.stringContaining('accepts connections but vssh does not answer') });
    expect(mute!.value!.checks.filter((c) => c.check !== 'vssh').every((c) => c.status === 'unknown')).toBe(true);
  });

  it('a full disk is a problem; without --fix nothing is touched', async () => {
    const f = fill();
    const run = await healFleet(fleet.pool, ['n1'], { config: config(mnt, { clean: ['tmp'] }), audit, checks: ['disk'] });
    const d = check(run.results[0]!.value!, 'disk');
    expect(d.status).toBe('problem');
    expect(d.diagnosis).toMatch(new RegExp(`${mnt} is \\d+% full`));
    expect(d.fix).toBeUndefined();
    expect(existsSync(f)).toBe(true);
    expect(run.results[0]!.outcome).toBe('failed');
  });

  it('--fix cleans only what the config allows, reports bytes freed, checks again (fixed) and audits it', async () => {
    const f = fill();
    const young = join(mnt, 'young.txt');
    writeFileSync(young, 'keep me');
    const run = await healFleet(fleet.pool, ['n1'], { config: config(mnt, { clean: ['tmp'] }), audit, checks: ['disk'], fix: true });
    const d = check(run.results[0]!.value!, 'disk');
    expect(d.status).toBe('problem');
    expect(d.fix).toMatchObject({ ok: true, result: 'fixed', action: 'clean: tmp' });
    expect(d.fix!.freedBytes).toBeGreaterThanOrEqual(1536 * 1024);
    expect(d.fix!.after!.status).toBe('ok');
    expect(existsSync(f)).toBe(false);
    expect(readFileSync(young, 'utf8')).toBe('keep me');
    expect(run.results[0]!.outcome).toBe('ok');
    expect(run.results[0]!.changed).toBe(true);
    const last = auditLines(audit).at(-1)!;
    expect(last).toMatchObject({ node: 'n1', check: 'disk', action: 'clean: tmp', result: 'fixed', before: { status: 'problem' }, after: { status: 'ok' } });
    expect(last.freedBytes).toBeGreaterThanOrEqual(1536 * 1024);
    expect(Date.parse(last.time)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a fix command that exits 1 is reported failed and audited; the problem stays', async () => {
    const f = fill();
    const before = auditLines(audit).length;
    const cfg = config(mnt, { clean: ['broken'], commands: { broken: ['sh', '-c', 'echo nope >&2; exit 1'] } });
    const run = await healFleet(fleet.pool, ['n1'], { config: cfg, audit, checks: ['disk'], fix: true });
    const d = check(run.results[0]!.value!, 'disk');
    expect(d.fix).toMatchObject({ ok: false, result: 'fix failed' });
    expect(d.fix!.detail).toContain('exited 1: nope');
    expect(d.fix!.after!.status).toBe('problem');
    expect(run.results[0]!.outcome).toBe('failed');
    const lines = auditLines(audit);
    expect(lines).toHaveLength(before + 1);
    expect(lines.at(-1)).toMatchObject({ check: 'disk', result: 'fix failed', after: { status: 'problem' } });
    expect(existsSync(f)).toBe(true);
  });

  it('a fix that frees nothing is still failing; no cleaner allowed means no fix and no audit line', async () => {
    fill();
    const n = auditLines(audit).length;
    const cfg = config(mnt, { clean: ['noop'], commands: { noop: ['true'] } });
    const run = await healFleet(fleet.pool, ['n1'], { config: cfg, audit, checks: ['disk'], fix: true });
    expect(check(run.results[0]!.value!, 'disk').fix).toMatchObject({ ok: true, result: 'still failing' });
    expect(auditLines(audit)).toHaveLength(n + 1);
    const none = await healFleet(fleet.pool, ['n1'], { config: config(mnt), audit, checks: ['disk'], fix: true });
    expect(check(none.results[0]!.value!, 'disk').fix).toMatchObject({ result: 'not run', detail: expect.stringContaining('disk.clean is empty') });
    expect(auditLines(audit)).toHaveLength(n + 1);
  });

  it('an audit log that cannot be written fails the node loudly, naming the fix that ran', async () => {
    fill();
    const run = await healFleet(fleet.pool, ['n1'], { config: config(mnt, { clean: ['tmp'] }), audit: '/proc/version/audit.jsonl', checks: ['disk'], fix: true });
    expect(run.results[0]!.outcome).toBe('failed');
    expect(run.results[0]!.error).toMatchObject({ code: 'MPOP_HEAL', message: expect.stringMatching(/the fix ran \(clean: tmp: fixed\) but could not be written to the audit log/) });
  });

  it('a check listed under auto fixes without --fix', async () => {
    const f = fill();
    const cfg = config(mnt, { clean: ['tmp'] }, { auto: ['disk'] });
    const run = await healFleet(fleet.pool, ['n1'], { config: cfg, audit, checks: ['disk'] });
    expect(check(run.results[0]!.value!, 'disk').fix?.result).toBe('fixed');
    expect(existsSync(f)).toBe(false);
  });

  it('load over its limit names the busiest processes; memory below its limit is said, with PSI when the kernel has it', async () => {
    const cfg = config(mnt);
    cfg.thresholds.load = 0.000001;
    cfg.thresholds.memory = 100;
    const run = await healFleet(fleet.pool, ['n1'], { config: cfg, audit, checks: ['load', 'memory'] });
    const h = run.results[0]!.value!;
    expect(check(h, 'load')).toMatchObject({ status: 'problem', diagnosis: expect.stringMatching(/load1 [\d.]+ is above .*busiest: /) });
    expect((check(h, 'load').evidence.top as unknown[]).length).toBeGreaterThan(0);
    expect(check(h, 'memory').status).toBe(existsSync('/proc/pressure/memory') ? 'warn' : 'problem');
    expect(check(h, 'memory').diagnosis).toMatch(/% of memory available/);
    expect(check(h, 'load').fix).toBeUndefined(); // diagnosis only
  });

  it('an unknown --check is a usage error naming the checks', () => {
    expect(() => healFleet(fleet.pool, ['n1'], { config: DEFAULT_HEAL_CONFIG, audit, checks: ['dsik'] })).toThrow(/no check "dsik".*disk/);
  });

  it('the mesh check reads the real wire CLI on the node: not in a mesh is unknown, with wire\'s own reason', async () => {
    const bin = join(import.meta.dirname, '../../../node_modules/.bin');
    const saved = process.env.PATH;
    const home = mkdtempSync(join(tmpdir(), 'mpop-heal-wire-'));
    const savedHome = process.env.MESHPOP_HOME;
    process.env.PATH = `${bin}:${saved}`;
    process.env.MESHPOP_HOME = home;
    try {
      const run = await healFleet(fleet.pool, ['n1'], { config: config(mnt), audit, checks: ['mesh'] });
      expect(check(run.results[0]!.value!, 'mesh')).toMatchObject({ status: 'unknown', diagnosis: expect.stringMatching(/n1: not in a mesh: .*wire up --join/) });
    } finally {
      process.env.PATH = saved;
      if (savedHome === undefined) delete process.env.MESHPOP_HOME;
      else process.env.MESHPOP_HOME = savedHome;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
