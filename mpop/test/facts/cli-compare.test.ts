import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { Fleet, loopFleet, readJson } from '../fleet.js';
import { mpopPaths } from '../../src/paths.js';

/** The fact commands from the built bin, over real loopback daemons (this machine: no GPU, no sensor chip, no systemd as init). */
describe('mpop diff / matrix and bad targets (built bin)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(3);
    await fleet.addDown('down1');
    await fleet.addSilent('mute1');
  });
  afterAll(() => fleet?.close());
  const json = (r: { stdout: unknown }) => JSON.parse(String(r.stdout));
  it('diff: two views of the same machine are the same (exit 0); bad input is a usage error', async () => {
    // Kernel and services cannot change between the two reads; packages and sockets can on a shared machine
    // (another test's daemon starting, an apt run), so those are checked for their form only.
    const r = await fleet.mpop(['diff', 'n1', 'n2', '--only', 'kernel,services']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toMatch(/^kernel: same \(3\)$/m);
    expect(String(r.stdout)).toMatch(/^services: cannot compare\n {2}no systemd on n1/m);
    const all = await fleet.mpop(['diff', 'n1', 'n2', '--json']);
    const j = JSON.parse(String(all.stdout)) as { subjects: { subject: string; status: string; same: number }[] };
    expect(j.subjects.map((x) => x.subject)).toEqual(['kernel', 'packages', 'services', 'ports']);
    expect(j.subjects.find((x) => x.subject === 'packages')!.same).toBeGreaterThan(100);
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
});
