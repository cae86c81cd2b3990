import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from './fleet.js';

describe('mpop servers and groups (the built bin)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(3);
  });
  afterAll(() => fleet?.close());

  it('servers lists every node with its address and groups; groups set/rm edit them', async () => {
    const set = await fleet.mpop(['groups', 'set', 'pair', 'n1', 'n2', 'nope']);
    expect(set.exitCode, String(set.stderr)).toBe(0);
    expect(String(set.stdout)).toContain('@pair: n1, n2');
    expect(String(set.stderr)).toContain('not in the fleet (yet): nope');
    const r = await fleet.mpop(['servers', '--json']);
    const nodes = JSON.parse(String(r.stdout)).nodes as { name: string; address: string; groups: string[]; source: string }[];
    expect(nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(nodes[0]).toMatchObject({ source: 'static', groups: ['pair'], address: `127.0.0.1:${fleet.nodes[0]!.port}` });
    const text = await fleet.mpop(['servers']);
    expect(String(text.stdout)).toMatch(/^NODE\s+ADDRESS\s+VIA/m);
    expect(String(text.stdout)).toMatch(/^n1\s+127\.0\.0\.1:\d+\s+static\s+-\s+-\s+pair/m);
    const g = await fleet.mpop(['groups', '--json']);
    expect(JSON.parse(String(g.stdout)).groups).toEqual([{ name: 'pair', kind: 'group', members: ['n1', 'n2'], missing: ['nope'] }]);
    const only = await fleet.mpop(['servers', '--group', 'pair', '--json']);
    expect(JSON.parse(String(only.stdout)).nodes).toHaveLength(2);
    expect((await fleet.mpop(['groups', 'rm', 'pair'])).exitCode).toBe(0);
    const again = await fleet.mpop(['groups', 'rm', 'pair']);
    expect(again.exitCode).toBe(3);
    expect(String(again.stderr)).toContain('there is no group "pair"');
    const reserved = await fleet.mpop(['groups', 'set', 'failed', 'n1']);
    expect(reserved.exitCode).toBe(2);
  });
});
