import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fleetGpus, fleetPackages, fleetPorts, fleetProcs, fleetServices, fleetTemps, report } from '../../src/facts/fleet.js';
import { fleetStatus } from '../../src/facts/status.js';
import { fleetHardware } from '../../src/facts/hw.js';
import { meshMatrix } from '../../src/facts/matrix.js';
import { nodeInfo } from '../../src/facts/info.js';
import { loadInventory } from '../../src/inventory/inventory.js';
import { Policy } from '@meshpop/vssh';
import { Fleet, loopFleet } from '../fleet.js';

/**
 * The readers over real loopback daemons (in this process, so their commands see this process's PATH). The
 * machine has no nvidia-smi, no sensor chip and no running systemd: the absent cases are the real thing. For the
 * present cases, small fake programs on PATH print the documented formats (test/fixtures/facts) — proof of the
 * wiring (exit codes, stderr, fallbacks), not of the tools.
 */
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/facts/${name}`, import.meta.url), 'utf8');

describe('fact readers over real daemons', () => {
  let fleet: Fleet;
  let bin: string;
  const path = process.env.PATH;
  beforeAll(async () => {
    fleet = await loopFleet(3);
    await fleet.addDown('down1');
    await fleet.addSilent('mute1');
    bin = mkdtempSync(join(tmpdir(), 'mpop-facts-bin-'));
  });
  afterEach(() => {
    process.env.PATH = path;
    rmSync(bin, { recursive: true, force: true });
    bin = mkdtempSync(join(tmpdir(), 'mpop-facts-bin-'));
  });
  afterAll(async () => {
    await fleet?.close();
    rmSync(bin, { recursive: true, force: true });
  });

  /** fake puts a program on PATH (before the real ones) that prints a file and exits with a code. */
  const fake = (name: string, opts: { stdout?: string; stderr?: string; exit?: number }): void => {
    const out = join(bin, `${name}.out`), err = join(bin, `${name}.err`);
    writeFileSync(out, opts.stdout ?? '');
    writeFileSync(err, opts.stderr ?? '');
    writeFileSync(join(bin, name), `#!/bin/sh\ncat '${out}'\ncat '${err}' >&2\nexit ${opts.exit ?? 0}\n`);
    chmodSync(join(bin, name), 0o755);
    process.env.PATH = `${bin}:${path}`;
  };

  it('gpu: no nvidia-smi is said plainly; a down node is unreachable, a mute one times out, on their own', async () => {
    const run = await fleetGpus(fleet.pool, ['n1', 'n2', 'down1', 'mute1'], { timeoutMs: 1500 });
    const by = Object.fromEntries(run.results.map((r) => [r.node, r]));
    expect(by.n1!.outcome).toBe('ok');
    expect(by.n1!.value).toEqual({ present: false, reason: 'no NVIDIA GPU on n1 (nvidia-smi is not installed)' });
    expect(by.down1!.outcome).toBe('unreachable');
    expect(by.mute1!.outcome).toMatch(/unreachable|timedout/);
    const rep = report('all', run);
    expect(JSON.parse(JSON.stringify(rep))).toEqual(rep); // JSON-safe as it is, for mpop-mcp
  });

  it('gpu: nvidia-smi output is parsed; no driver (exit 9) is absent; another failure names the command, exit code and stderr', async () => {
    fake('nvidia-smi', { stdout: fixture('nvidia-smi-query.stdout') });
    let run = await fleetGpus(fleet.pool, ['n1']);
    const v = run.results[0]!.value!;
    expect(v.present && v.gpus.map((g) => g.name)).toEqual(['NVIDIA A100-SXM4-80GB', 'NVIDIA GeForce RTX 3090', 'Tesla T4, Rev. B']);
    fake('nvidia-smi', { stdout: fixture('nvidia-smi-nodriver.stdout'), exit: 9 });
    run = await fleetGpus(fleet.pool, ['n1']);
    expect(run.results[0]!.value).toMatchObject({ present: false, reason: expect.stringMatching(/^no NVIDIA GPU on n1 \(nvidia-smi is installed, the NVIDIA driver is not loaded: NVIDIA-SMI has failed/) });
    fake('nvidia-smi', { stderr: 'Insufficient Permissions\n', exit: 4 });
    run = await fleetGpus(fleet.pool, ['n1']);
    expect(run.results[0]!.outcome).toBe('failed');
    expect(run.results[0]!.error).toEqual({ code: 'MPOP_REMOTE', message: expect.stringMatching(/^`nvidia-smi --query-gpu=index,.*` exited 4 on n1: Insufficient Permissions$/) });
    fake('nvidia-smi', { stdout: 'garbage, here\n' });
    run = await fleetGpus(fleet.pool, ['n1']);
    expect(run.results[0]!.error?.message).toMatch(/cannot read the output of nvidia-smi --query-gpu, line 1/);
  });

  it('temp: no sensor chip and no thermal zone is "no sensors on n1"; sensors -j output is read; a failing sensors is failed', async () => {
    let run = await fleetTemps(fleet.pool, ['n1']);
    expect(run.results[0]!.value).toMatchObject({ present: false, reason: expect.stringMatching(/^no sensors on n1 \((lm-sensors is not installed|lm-sensors found no sensor chip), and \/sys\/class\/thermal has no zone\)$/) });
    fake('sensors', { stdout: fixture('sensors-none.stdout'), stderr: fixture('sensors-none.stderr'), exit: 1 });
    run = await fleetTemps(fleet.pool, ['n1']);
    expect(run.results[0]!.value).toEqual({ present: false, reason: 'no sensors on n1 (lm-sensors found no sensor chip, and /sys/class/thermal has no zone)' });
    fake('sensors', { stdout: fixture('sensors-chips.stdout') });
    run = await fleetTemps(fleet.pool, ['n1']);
    expect(run.results[0]!.value).toMatchObject({ present: true, source: 'sensors' });
    fake('sensors', { stderr: 'Error: File /etc/sensors3.conf, line 12: parse error\n', exit: 1 });
    run = await fleetTemps(fleet.pool, ['n1']);
    expect(run.results[0]!.error?.message).toBe('`sensors -j` exited 1 on n1: Error: File /etc/sensors3.conf, line 12: parse error');
  });

  it('services: systemd not running here is "no systemd on n1"; a systemd\'s JSON is read; an old one\'s plain columns too', async () => {
    let run = await fleetServices(fleet.pool, ['n1', 'n2']);
    expect(run.results.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(run.results[0]!.value).toMatchObject({ present: false, reason: expect.stringMatching(/^no systemd on n1 \(/) });
    fake('systemctl', { stdout: fixture('systemctl-units.json.stdout') });
    run = await fleetServices(fleet.pool, ['n1'], { failed: true });
    const v = run.results[0]!.value!;
    expect(v.present && v.units.length).toBe(5);
    // An old systemd prints its table whatever --output says: asked again for --plain --no-legend.
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\ncase "$*" in *--plain*) cat '${join(bin, 'plain')}';; *) echo 'UNIT LOAD ACTIVE SUB DESCRIPTION';; esac\n`);
    writeFileSync(join(bin, 'plain'), fixture('systemctl-units.plain.stdout'));
    run = await fleetServices(fleet.pool, ['n1']);
    const p = run.results[0]!.value!;
    expect(p.present && p.units.map((u) => u.unit)).toEqual(['cron.service', 'nginx.service', 'ssh.service', 'ufw.service']);
  });

  it('ports: the real ss names each daemon\'s socket and this process; without ss, sysinfo\'s TCP list, said so', async () => {
    const run = await fleetPorts(fleet.pool, ['n1']);
    const v = run.results[0]!.value!;
    expect(v.present && v.source).toBe('ss');
    const n1 = fleet.nodes.find((n) => n.name === 'n1')!;
    const s = v.present ? v.sockets.find((x) => x.port === n1.port && x.proto === 'tcp') : undefined;
    expect(s).toMatchObject({ address: '127.0.0.1', processes: [expect.objectContaining({ pid: process.pid })] });
    // A PATH without ss: only the shell tools the fallback does not need.
    for (const tool of ['sh', 'cat']) symlinkSync(`/bin/${tool}`, join(bin, tool));
    process.env.PATH = bin;
    const bare = await fleetPorts(fleet.pool, ['n1']);
    expect(bare.results[0]!.value).toMatchObject({ present: true, source: 'sysinfo', note: expect.stringContaining('ss is not installed on n1') });
    const b = bare.results[0]!.value!;
    expect(b.present && b.sockets.some((x) => x.port === n1.port)).toBe(true);
  });

  it('ps: this test process is found by grep, top N keeps the busiest, the ps itself is left out', async () => {
    const run = await fleetProcs(fleet.pool, ['n1'], { grep: 'vitest', top: 500 });
    const v = run.results[0]!.value!;
    expect(v.procs.some((p) => p.pid === process.pid)).toBe(true);
    expect(v.procs.every((p) => /vitest/i.test(p.args + p.comm))).toBe(true);
    const top = await fleetProcs(fleet.pool, ['n1'], { top: 3 });
    const t = top.results[0]!.value!;
    expect(t.procs).toHaveLength(3);
    expect(t.procs[0]!.cpuPercent).toBeGreaterThanOrEqual(t.procs[2]!.cpuPercent);
    expect(t.total).toBeGreaterThan(3);
    expect(t.procs.some((p) => p.comm === 'ps')).toBe(false);
  });

  it('packages: dpkg on this machine', async () => {
    const run = await fleetPackages(fleet.pool, ['n1']);
    const v = run.results[0]!.value!;
    expect(v.present && v.manager).toBe('dpkg');
    expect(v.present && v.packages.some((p) => p.name === 'procps')).toBe(true);
  });

  it('status, hw and info read one sysinfo each; unreachable nodes say why', async () => {
    const run = await fleetStatus(fleet.pool, ['n1', 'n2', 'down1'], { timeoutMs: 5000 });
    const [a, , d] = run.results;
    expect(a!.outcome).toBe('ok');
    expect(a!.value!.cores).toBeGreaterThan(0);
    expect(a!.value!.memory.totalBytes).toBeGreaterThan(0);
    expect(a!.value!.rttMs).toBeGreaterThanOrEqual(0);
    expect(a!.value!.failedUnits).toBeNull(); // no systemd here
    expect(d!.outcome).toBe('unreachable');
    expect(d!.error?.message).toMatch(/ECONNREFUSED/);
    const hw = await fleetHardware(fleet.pool, ['n3']);
    expect(hw.results[0]!.value).toMatchObject({ arch: process.arch, cpu: { count: expect.any(Number) } });
    const inv = await loadInventory({ home: fleet.home });
    const info = await nodeInfo(fleet.pool, inv.byName.get('n2')!);
    expect(info.hello.name).toBe('n2');
    expect(Math.abs(info.clockSkewMs)).toBeLessThan(5000);
    await expect(nodeInfo(fleet.pool, inv.byName.get('down1')!)).rejects.toMatchObject({ code: 'VSSH_UNREACHABLE' });
  });

  it('matrix: every path from every node; a down node fails as a destination and is untried as a source', async () => {
    const inv = await loadInventory({ home: fleet.home });
    const m = await meshMatrix(fleet.pool, inv.nodesOf('n1,n2,n3,down1'), { connectTimeoutMs: 1000, timeoutMs: 8000 });
    expect(m.counts).toEqual({ ok: 6, failed: 3, untried: 3 });
    const n1 = m.rows.find((r) => r.from === 'n1')!;
    expect(n1.method).toBe('node');
    expect(n1.cells.find((c) => c.to === 'down1')).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(n1.cells.find((c) => c.to === 'n2')).toMatchObject({ ok: true, ms: expect.any(Number) });
    expect(m.rows.find((r) => r.from === 'down1')!.outcome).toBe('unreachable');
  });

  it('matrix: where node is not installed, bash /dev/tcp does the probe', async () => {
    for (const tool of ['bash', 'date', 'timeout']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    process.env.PATH = bin;
    const inv = await loadInventory({ home: fleet.home });
    const m = await meshMatrix(fleet.pool, inv.nodesOf('n1,n2,down1'), { connectTimeoutMs: 1000 });
    const n1 = m.rows.find((r) => r.from === 'n1')!;
    expect(n1.method).toBe('bash');
    expect(n1.cells.map((c) => [c.to, c.ok])).toEqual([['down1', false], ['n2', true]]);
  });

  it('a tool that hangs is cut off: by the node when a timeout is given (timed out, killed there), by the run otherwise', async () => {
    fake('nvidia-smi', {});
    writeFileSync(join(bin, 'nvidia-smi'), '#!/bin/sh\nsleep 60\n');
    let run = await fleetGpus(fleet.pool, ['n1'], { timeoutMs: 500 });
    expect(run.results[0]!.outcome).toBe('timedout');
    expect(run.results[0]!.error?.message).toMatch(/^`nvidia-smi .*` did not finish on n1 within 500 ms \(killed there\)$/);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    run = await fleetGpus(fleet.pool, ['n1'], { signal: ac.signal });
    expect(run.results[0]!.outcome).toBe('cancelled');
  });
});

describe('fact readers on nodes whose policy restricts them', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(2, { policy: (name) => (name === 'n1' ? new Policy({ allowCommands: ['ps', 'ss'], maxTimeoutMs: 5000 }) : undefined) });
  });
  afterAll(() => fleet?.close());

  it('an allowed tool works under a maximum timeout; a refused one is failed with the policy\'s words, never faked as absent', async () => {
    const ps = await fleetProcs(fleet.pool, ['n1'], { top: 1 });
    expect(ps.results[0]!.outcome).toBe('ok');
    const gpu = await fleetGpus(fleet.pool, ['n1', 'n2']);
    expect(gpu.results[0]!.outcome).toBe('failed');
    expect(gpu.results[0]!.error).toMatchObject({ code: 'VSSH_POLICY', message: expect.stringContaining('not an allowed command') });
    expect(gpu.results[1]!.value).toMatchObject({ present: false });
    const st = await fleetStatus(fleet.pool, ['n1']);
    expect(st.results[0]!.outcome).toBe('ok'); // sysinfo is not an exec
  });
});

