import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { Fleet, loopFleet, readJson } from '../fleet.js';
import { mpopPaths } from '../../src/paths.js';

/** The fact commands from the built bin, over real loopback daemons (this machine: no GPU, no sensor chip, no systemd as init). */
describe('mpop gpu / temp / services / ports / ps (built bin)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(3);
    await fleet.addDown('down1');
    await fleet.addSilent('mute1');
  });
  afterAll(() => fleet?.close());
  const json = (r: { stdout: unknown }) => JSON.parse(String(r.stdout));
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
