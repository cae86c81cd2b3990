import { describe, expect, it } from 'vitest';
import { downsample, type History } from '../../src/dashboard/history.js';
import { globalExports } from '../../src/dashboard/mcp-app.js';

describe('the MCP App document: the ext-apps bundle made a global', () => {
  it('turns the trailing export list into globalThis.NAME, renamed exports and plain ones', () => {
    const out = globalExports('var a=1;function b(){return 2}var c=3;export{a as App,b as PostMessageTransport,c};', 'X');
    expect(out).not.toContain('export');
    const g: Record<string, unknown> = {};
    new Function('globalThis', out)(g);
    expect(Object.keys(g.X as object)).toEqual(['App', 'PostMessageTransport', 'c']);
    expect((g.X as { PostMessageTransport: () => number }).PostMessageTransport()).toBe(2);
  });

  it('refuses a bundle of another shape rather than building a blank app', () => {
    expect(() => globalExports('import{z}from"zod";var a=z;export{a as App};', 'X')).toThrow(/new shape/);
    expect(() => globalExports('var a=1;export default a;', 'X')).toThrow(/new shape/);
    expect(() => globalExports('var a=1;export{a as "App"};', 'X')).toThrow(/unexpected export/);
  });
});

describe('downsample: a node\'s history cut to a number of points', () => {
  const hist = (n: number): History => ({
    node: 'n1', from: '', to: '', monitored: true,
    t: Array.from({ length: n }, (_, i) => 1000 + i),
    cpu: Array.from({ length: n }, (_, i) => (i % 2 ? null : i)),
    mem: Array.from({ length: n }, () => null),
    load: Array.from({ length: n }, () => 1),
    disk: { '/var': Array(n).fill(10), '/': Array(n).fill(50), '/a': Array(n).fill(1), '/b': Array(n).fill(2), '/c': Array(n).fill(3) },
  });

  it('averages consecutive rows (nulls left out, an empty slice null) and keeps the newest time last', () => {
    const d = downsample(hist(150), 60);
    expect(d.t).toHaveLength(50); // slices of 3 rows
    expect(d.t.at(-1)).toBe(1149);
    expect(d.t[0]).toBe(1002);
    expect(d.cpu.slice(0, 2)).toEqual([1, 4]); // (0 + 2) / 2, then 4 alone (3 and 5 are null)
    expect(d.mem.every((v) => v === null)).toBe(true);
    expect(d.load.every((v) => v === 1)).toBe(true);
    for (const col of [d.cpu, d.mem, d.load, ...Object.values(d.disk)]) expect(col).toHaveLength(d.t.length);
  });

  it('keeps a short history as it is, and at most 4 mounts, / first', () => {
    const d = downsample(hist(10), 60);
    expect(d.t).toHaveLength(10);
    expect(Object.keys(d.disk)).toEqual(['/', '/a', '/b', '/c']);
    expect(d.disk['/']).toEqual(Array(10).fill(50));
  });
});
