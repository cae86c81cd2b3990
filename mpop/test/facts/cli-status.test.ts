import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { Fleet, loopFleet, readJson } from '../fleet.js';
import { mpopPaths } from '../../src/paths.js';

/** The fact commands from the built bin, over real loopback daemons (this machine: no GPU, no sensor chip, no systemd as init). */
describe('mpop status / info / hw (built bin)', () => {
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

  it('hw: one row per node; a down node in the recap', async () => {
    const r = await fleet.mpop(['hw', 'n1,down1']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stdout)).toMatch(new RegExp(`^n1\\s+\\d+x .*${process.arch}$`, 'm'));
    expect(String(r.stdout)).toMatch(/^unreachable\s+1\s+down1/m);
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
});
