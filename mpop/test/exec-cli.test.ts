import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet, readJson } from './fleet.js';

describe('mpop exec (the built bin) over real loopback daemons', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(0, { names: ['web1', 'web2', 'web3', 'db1'] });
    await fleet.addDown('web4');
  });
  afterAll(() => fleet?.close());

  it('folds identical outputs under node ranges and ends with a recap; exit 1 because one node is down', async () => {
    const r = await fleet.mpop(['exec', 'all', '--', 'sh', '-c', 'case $VSSH_NODE in *) echo same;; esac']);
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const out = String(r.stdout);
    expect(out).toMatch(/^-+\ndb1,web\[1-3\] \(4\)\n-+\nsame$/m);
    expect(out).toMatch(/^ok\s+4\s+db1,web\[1-3\]$/m);
    expect(out).toMatch(/^unreachable\s+1\s+web4$/m);
    expect(out).toContain('web4: ');
    expect(out).not.toContain('\x1b['); // piped: no colour
  });

  it('--json gives one entry per node with exit code, output, duration and error code', async () => {
    const r = await fleet.mpop(['exec', 'web*', '--json', '--shell', 'echo out; echo err >&2; exit 2']);
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(String(r.stdout));
    expect(j.nodes.map((n: { node: string }) => n.node)).toEqual(['web1', 'web2', 'web3', 'web4']);
    expect(j.nodes[0]).toMatchObject({ outcome: 'failed', exitCode: 2, stdout: 'out\n', stderr: 'err\n', error: { code: 'MPOP_REMOTE' } });
    expect(j.nodes[3]).toMatchObject({ outcome: 'unreachable', exitCode: null, error: { code: expect.stringMatching(/^VSSH_/) } });
    expect(j.counts).toMatchObject({ failed: 3, unreachable: 1 });
  });

  it('saves the failed and changed sets, and @failed / @changed target them next', async () => {
    await fleet.mpop(['exec', 'web1,web2,db1', '--', 'sh', '-c', 'test "$(cat /proc/sys/kernel/hostname)" = never-this']);
    const last = readJson<{ failed: string[] }>(join(fleet.home, 'mpop', 'last-run.json'));
    expect(last.failed).toEqual(['db1', 'web1', 'web2']);
    const r = await fleet.mpop(['exec', '@failed', '--json', '--', 'true']);
    expect(JSON.parse(String(r.stdout)).nodes.map((n: { node: string }) => n.node)).toEqual(['db1', 'web1', 'web2']);
    const c = await fleet.mpop(['exec', '@changed', '--json', '--', 'true']);
    expect(JSON.parse(String(c.stdout)).nodes.map((n: { node: string }) => n.node)).toEqual(['db1', 'web1', 'web2']);
  });

  it('a target that matches nothing exits 3 and names the closest nodes', async () => {
    const r = await fleet.mpop(['exec', 'wbe1', '--', 'true']);
    expect(r.exitCode).toBe(3);
    expect(String(r.stderr)).toContain('no node named "wbe1" (did you mean web1');
    const g = await fleet.mpop(['exec', '@wbe', '--', 'true']);
    expect(g.exitCode).toBe(3);
  });

  it('groups from inventory.yaml target nodes, and a typo in it is a clear error with its line', async () => {
    mkdirSync(join(fleet.home, 'mpop'), { recursive: true });
    writeFileSync(join(fleet.home, 'mpop', 'inventory.yaml'), 'groups:\n  web: [web1, web2]\n  db: [db1]\n');
    const r = await fleet.mpop(['exec', '@web', '--json', '--', 'true']);
    expect(JSON.parse(String(r.stdout)).nodes.map((n: { node: string }) => n.node)).toEqual(['web1', 'web2']);
    writeFileSync(join(fleet.home, 'mpop', 'inventory.yaml'), 'groups:\n  web: [web1, web2]\ngroupz:\n  db: [db1]\n');
    const bad = await fleet.mpop(['exec', '@web', '--', 'true']);
    expect(bad.exitCode).toBe(3);
    expect(String(bad.stderr)).toMatch(/inventory\.yaml.*groupz|groupz.*allowed: groups, roles, ansible/);
    writeFileSync(join(fleet.home, 'mpop', 'inventory.yaml'), 'groups:\n  web: [web1, web2\n');
    const broken = await fleet.mpop(['exec', '@web', '--', 'true']);
    expect(broken.exitCode).toBe(3);
    expect(String(broken.stderr)).toMatch(/inventory\.yaml:\d+/);
    writeFileSync(join(fleet.home, 'mpop', 'inventory.yaml'), '');
  });

  it('usage errors exit 2 and say what to do', async () => {
    const r = await fleet.mpop(['exec', 'all']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toContain('put it after --');
    const t = await fleet.mpop(['exec', 'all', '--timeout', 'soon', '--', 'true']);
    expect(t.exitCode).toBe(2);
    expect(String(t.stderr)).toContain('not a duration');
  });

  it('--stream prefixes each line with its node as it comes', async () => {
    const r = await fleet.mpop(['exec', 'web1,web2', '--stream', '--', 'sh', '-c', 'echo a; echo b']);
    expect(r.exitCode).toBe(0);
    const lines = String(r.stdout).split('\n');
    expect(lines.filter((l) => /^web1: a$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^web2: b$/.test(l))).toHaveLength(1);
  });
});

describe('mpop exec over more nodes than an AbortSignal\'s listener warning allows', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(24);
  });
  afterAll(() => fleet?.close());

  it('says nothing on stderr when every node is fine (one abort listener for the run, not one per node)', async () => {
    const r = await fleet.mpop(['exec', 'all', '--', 'true']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/^ok\s+24\s+n\[1-24\]$/m);
    expect(String(r.stderr)).toBe('');
  });
});
