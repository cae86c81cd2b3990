import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { Fleet, loopFleet, readJson } from '../fleet.js';
import { mpopPaths } from '../../src/paths.js';

/** The fact commands from the built bin, over real loopback daemons (this machine: no GPU, no sensor chip, no systemd as init). */
describe('mpop status / info / hw / gpu / temp / services / ports / ps / diff / matrix (built bin)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(3);
    await fleet.addDown('down1');
    await fleet.addSilent('mute1');
  });
  afterAll(() => fleet?.close());
  const json = (r: { stdout: unknown }) => JSON.parse(String(r.stdout));

  it('status: one row per node, the down and mute ones with why, exit 1, and @failed saved', async () => {
    const r = await fleet.mpop(['status', '--timeout', '2s']);
    expect(r.exitCode).toBe(1);
    const out = String(r.stdout);
    expect(out).toMatch(/^NODE\s+STATE\s+LOAD\s+CPU\s+MEMORY\s+DISK\s+UPTIME\s+FAILED\s+RTT/);
    expect(out).toMatch(/^n1\s+up\s+\d/m);
    expect(out).toMatch(/^down1\s+unreachable/m);
    expect(out).toMatch(/^mute1\s+(unreachable|timed out)/m);
    expect(out).toMatch(/^\s+down1: cannot reach down1: .*ECONNREFUSED/m);
    expect(out).toContain('no systemd');
    const last = readJson<{ failed: string[]; command: string }>(mpopPaths(fleet.home).lastRun);
    expect(last).toMatchObject({ command: 'status', failed: ['down1', 'mute1'] });
    const again = await fleet.mpop(['status', '@failed', '--json', '--timeout', '1s']);
    expect(json(again).nodes.map((n: { node: string }) => n.node)).toEqual(['down1', 'mute1']);
  });

  it('status --json: typed rows, JSON that an MCP tool can hand on as it is', async () => {
    const r = await fleet.mpop(['status', 'n1,n2', '--json']);
    expect(r.exitCode).toBe(0);
    const j = json(r);
    expect(j.target).toBe('n1,n2');
    expect(j.counts.ok).toBe(2);
    expect(j.nodes[0]).toMatchObject({ node: 'n1', outcome: 'ok', value: { cores: expect.any(Number), memory: { percent: expect.any(Number) }, failedUnits: null, rttMs: expect.any(Number), levels: { cpu: expect.stringMatching(/ok|warn|crit/) } } });
  });

  it('info: the hello and sysinfo of one node; many nodes or a down one are clear errors', async () => {
    const r = await fleet.mpop(['info', 'n2']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/^n2 {2}\(.*, vssh \d+\.\d+\.\d+\)/);
    expect(String(r.stdout)).toMatch(/policy\s+none \(everything allowed\)/);
    const j = json(await fleet.mpop(['info', 'n2', '--json']));
    expect(j).toMatchObject({ node: 'n2', hello: { name: 'n2' }, sysinfo: { hostname: expect.any(String) }, inventory: { source: 'static' } });
    const many = await fleet.mpop(['info', 'n*']);
    expect(many.exitCode).toBe(2);
    expect(String(many.stderr)).toMatch(/mpop info shows one node, and "n\*" names 3/);
    const down = await fleet.mpop(['info', 'down1']);
    expect(down.exitCode).toBe(4);
    expect(String(down.stderr)).toMatch(/^mpop: cannot reach down1/);
    expect(String(down.stderr)).not.toMatch(/ at .*\.js:\d+/); // no stack
  });

  it('gpu, temp, services: a subject absent on a node is said plainly, and is not a failure', async () => {
    const gpu = await fleet.mpop(['gpu', 'n1,n2']);
    expect(gpu.exitCode).toBe(0);
    expect(String(gpu.stdout).trim().split('\n')).toEqual(['no NVIDIA GPU on n1 (nvidia-smi is not installed)', 'no NVIDIA GPU on n2 (nvidia-smi is not installed)']);
    const temp = await fleet.mpop(['temp', 'n1']);
    expect(temp.exitCode).toBe(0);
    expect(String(temp.stdout)).toMatch(/^no sensors on n1 \(/);
    const svc = await fleet.mpop(['services', 'n1', '--failed', '--json']);
    expect(svc.exitCode).toBe(0);
    expect(json(svc).nodes[0].value).toMatchObject({ present: false, reason: expect.stringMatching(/^no systemd on n1/) });
  });

  it('hw: one row per node; a down node in the recap', async () => {
    const r = await fleet.mpop(['hw', 'n1,down1']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stdout)).toMatch(new RegExp(`^n1\\s+\\d+x .*${process.arch}$`, 'm'));
    expect(String(r.stdout)).toMatch(/^unreachable\s+1\s+down1/m);
  });

  it('ports: the daemon\'s own socket with its process; --port and --proto narrow', async () => {
    const n1 = fleet.nodes.find((n) => n.name === 'n1')!;
    const j = json(await fleet.mpop(['ports', 'n1', '--port', String(n1.port), '--json']));
    expect(j.nodes[0].value.sockets).toEqual([{ proto: 'tcp', address: '127.0.0.1', port: n1.port, processes: [expect.objectContaining({ pid: process.pid })] }]);
    const text = await fleet.mpop(['ports', 'n1', '--port', String(n1.port)]);
    expect(String(text.stdout)).toMatch(new RegExp(`^n1\\s+tcp\\s+127\\.0\\.0\\.1\\s+${n1.port}\\s+\\S+\\[${process.pid}\\]`, 'm'));
    const bad = await fleet.mpop(['ports', 'n1', '--proto', 'sctp']);
    expect(bad.exitCode).toBe(2);
  });

  it('ps: the top N per node by CPU; --grep with shell-looking text is only text', async () => {
    const j = json(await fleet.mpop(['ps', 'n1', '--top', '2', '--json']));
    expect(j.nodes[0].value.procs).toHaveLength(2);
    expect(j.nodes[0].value.procs[0]).toMatchObject({ pid: expect.any(Number), user: expect.any(String), args: expect.any(String) });
    const needle = `'; touch /tmp/mpop-pwned-$$; echo '`;
    const hostile = await fleet.mpop(['ps', 'n1', '--grep', needle, '--json']);
    expect(hostile.exitCode).toBe(0);
    // The only match is the mpop process itself (its own command line holds the text); nothing ran it.
    const procs = json(hostile).nodes[0].value.procs as { args: string }[];
    expect(procs.length).toBeGreaterThan(0);
    expect(procs.every((p) => p.args.includes(needle) && p.args.includes('run.js ps'))).toBe(true);
    expect(existsSync(`/tmp/mpop-pwned-$$`)).toBe(false);
    const text = await fleet.mpop(['ps', 'n1,n2', '--grep', 'vitest', '--top', '1']);
    expect(String(text.stdout)).toMatch(/^n1 \d+ of \d+ processes match, the top 1 shown$/m);
    expect(String(text.stdout)).toMatch(/^PID\s+USER\s+%CPU\s+%MEM\s+RSS\s+AGE\s+COMMAND$/m);
  });

  it('diff: two views of the same machine are the same (exit 0); bad input is a usage error', async () => {
    const r = await fleet.mpop(['diff', 'n1', 'n2']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/^kernel: same/m);
    expect(String(r.stdout)).toMatch(/^packages: same \(\d+\)/m);
    expect(String(r.stdout)).toMatch(/^services: cannot compare\n {2}no systemd on n1/m);
    expect((await fleet.mpop(['diff', 'n1', 'n1'])).exitCode).toBe(2);
    expect((await fleet.mpop(['diff', 'n1', 'n2', '--files', 'etc'])).exitCode).toBe(2);
    expect((await fleet.mpop(['diff', 'n1', 'n2', '--only', 'kernels'])).exitCode).toBe(2);
    const typo = await fleet.mpop(['diff', 'n1', 'n22']);
    expect(typo.exitCode).toBe(3);
    expect(String(typo.stderr)).toMatch(/n2/);
    const down = await fleet.mpop(['diff', 'n1', 'down1']);
    expect(down.exitCode).toBe(4);
    expect(String(down.stderr)).toMatch(/cannot compare: down1 does not answer/);
  });

  it('matrix: a grid of every path, the down node failed as a destination and untried as a source', async () => {
    const r = await fleet.mpop(['matrix', 'n1,n2,down1', '--connect-timeout', '1s']);
    expect(r.exitCode).toBe(1);
    const out = String(r.stdout);
    expect(out).toMatch(/^FROM \\ TO\s+down1\s+n1\s+n2$/m);
    expect(out).toMatch(/^n1\s+failed\s+·\s+[\d.]+ ms$/m);
    expect(out).toMatch(/^down1\s+·\s+\?\s+\?$/m);
    expect(out).toContain('2 paths ok, 2 failed, 2 untried');
    const j = json(await fleet.mpop(['matrix', 'n1,n2', '--json']));
    expect(j.counts).toEqual({ ok: 2, failed: 0, untried: 0 });
    expect(j.targets).toEqual([{ node: 'n1', host: '127.0.0.1', port: fleet.nodes[0]!.port }, { node: 'n2', host: '127.0.0.1', port: fleet.nodes[1]!.port }]);
  });

  it('a target that matches nothing names the closest nodes (exit 3); a bad duration is a usage error', async () => {
    const r = await fleet.mpop(['status', 'n9']);
    expect(r.exitCode).toBe(3);
    expect(String(r.stderr)).toMatch(/n9/);
    const d = await fleet.mpop(['gpu', 'all', '--timeout', 'soon']);
    expect(d.exitCode).toBe(2);
    expect(String(d.stderr)).toMatch(/--timeout "soon" is not a duration/);
  });

  it('status without oclif (facts/status-main, for bin/run.js\'s fast path) reads and exits as the oclif command does', async () => {
    const main = new URL('../../dist/facts/status-main.js', import.meta.url).href;
    const fast = (args: string[]) => execa(process.execPath, ['--input-type=module', '-e', `const { statusMain } = await import(${JSON.stringify(main)}); process.exitCode = await statusMain(process.argv.slice(1));`, '--', ...args], { env: fleet.env, reject: false, stdin: 'ignore' });
    const ok = await fast(['n1,n2', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(json(ok).nodes.map((n: { node: string; outcome: string }) => [n.node, n.outcome])).toEqual([['n1', 'ok'], ['n2', 'ok']]);
    const down = await fast(['n1,down1']);
    expect(down.exitCode).toBe(1);
    expect(String(down.stdout)).toMatch(/^unreachable\s+1\s+down1$/m);
    expect((await fast(['n1', 'n2'])).exitCode).toBe(2);
    expect((await fast(['--timeout', 'x'])).exitCode).toBe(2);
    const none = await fast(['nothing-like-it', '--json']);
    expect(none.exitCode).toBe(3);
    expect(json(none).error.code).toBe('MPOP_NO_MATCH');
  });

  it('gpu, temp and services tables, where the tools are there (fake programs printing the documented formats)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'mpop-facts-cli-'));
    const path = process.env.PATH;
    const fake = (name: string, fixture: string): void => {
      copyFileSync(new URL(`../fixtures/facts/${fixture}`, import.meta.url), join(bin, `${name}.out`));
      writeFileSync(join(bin, name), `#!/bin/sh\ncat '${join(bin, `${name}.out`)}'\n`, { mode: 0o755 });
    };
    fake('nvidia-smi', 'nvidia-smi-query.stdout');
    fake('sensors', 'sensors-chips.stdout');
    fake('systemctl', 'systemctl-units.json.stdout');
    process.env.PATH = `${bin}:${path}`; // the daemons run in this process: their commands find the fakes
    try {
      const gpu = String((await fleet.mpop(['gpu', 'n1'])).stdout);
      expect(gpu).toMatch(/^NODE\s+#\s+NAME\s+MEMORY\s+UTIL\s+TEMP\s+POWER\s+FAN\s+DRIVER$/m);
      expect(gpu).toMatch(/^n1\s+1\s+NVIDIA GeForce RTX 3090\s+20\.0 GiB \/ 24\.0 GiB\s+97%\s+78°C\s+298\.11 W \/ 350 W\s+65%\s+535\.129\.03$/m);
      expect(gpu).toMatch(/^n1\s+2\s+Tesla T4, Rev\. B\s+0 B \/ 16\.0 GiB\s+-\s+41°C\s+-\s+30%/m);
      const temp = String((await fleet.mpop(['temp', 'n1'])).stdout);
      expect(temp).toMatch(/^n1\s+coretemp-isa-0000\s+Package id 0\s+52°C\s+80°C\s+100°C\s+sensors$/m);
      expect(temp).toMatch(/^n1\s+nct6775-isa-0290\s+fan1\s+1205 RPM/m);
      expect(temp).not.toContain('in0'); // voltages only with --all
      expect(String((await fleet.mpop(['temp', 'n1', '--all'])).stdout)).toMatch(/^n1\s+nct6775-isa-0290\s+in0\s+0\.9 V\s+1\.7 V/m);
      const svc = String((await fleet.mpop(['services', 'n1'])).stdout);
      expect(svc).toMatch(/^NODE\s+UNIT\s+LOAD\s+ACTIVE\s+SUB\s+DESCRIPTION$/m);
      expect(svc).toMatch(/^n1\s+nginx\.service\s+loaded\s+failed\s+failed\s+A high performance web server/m);
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

