import { describe, expect, it } from 'vitest';
import { Filter, FilterRule } from '../../src/transfer/filter.js';

const ex = (pattern: string): FilterRule => ({ action: 'exclude', pattern });
const inc = (pattern: string): FilterRule => ({ action: 'include', pattern });

describe('--exclude / --include, as rsync reads them', () => {
  it('a pattern without a slash matches a name at any depth', () => {
    const f = new Filter([ex('*.log'), ex('node_modules')]);
    expect(['a.log', 'x/y/b.log', 'node_modules', 'pkg/node_modules'].map((p) => f.excluded(p, false))).toEqual([true, true, true, true]);
    expect(['a.log.gz', 'x/logs', 'node_modules2'].map((p) => f.excluded(p, false))).toEqual([false, false, false]);
  });

  it('a pattern with a slash is anchored to the transfer root; a leading slash too', () => {
    const f = new Filter([ex('build/out'), ex('/tmp')]);
    expect([f.excluded('build/out', false), f.excluded('src/build/out', false), f.excluded('tmp', true), f.excluded('src/tmp', true)]).toEqual([true, false, true, false]);
  });

  it('* stays within a name, ** spans folders, ? is one character, [..] a class', () => {
    const f = new Filter([ex('docs/*.md'), ex('cache/**/*.bin'), ex('v?'), ex('[ab]x')]);
    expect([f.excluded('docs/a.md', false), f.excluded('docs/sub/a.md', false)]).toEqual([true, false]);
    expect([f.excluded('cache/a/b/c.bin', false), f.excluded('cache/c.bin', false)]).toEqual([true, false]);
    expect([f.excluded('v1', false), f.excluded('v12', false), f.excluded('ax', false), f.excluded('cx', false)]).toEqual([true, false, true, false]);
    expect(new Filter([ex('**.tmp')]).excluded('a/b/c.tmp', false)).toBe(true);
  });

  it('a trailing slash matches folders only', () => {
    const f = new Filter([ex('logs/')]);
    expect([f.excluded('logs', true), f.excluded('logs', false), f.excluded('a/logs', true)]).toEqual([true, false, true]);
  });

  it('the first matching rule wins', () => {
    const f = new Filter([inc('keep.log'), ex('*.log')]);
    expect([f.excluded('keep.log', false), f.excluded('x/keep.log', false), f.excluded('drop.log', false)]).toEqual([false, false, true]);
    const g = new Filter([ex('*.log'), inc('keep.log')]);
    expect(g.excluded('keep.log', false)).toBe(true);
    const only = new Filter([inc('*/'), inc('*.html'), ex('*')]); // rsync's "only these" idiom
    expect([only.excluded('a', true), only.excluded('a/i.html', false), only.excluded('a/i.css', false)]).toEqual([false, false, true]);
  });

  it('regex characters in a pattern are literal, and a bad rule is said', () => {
    const f = new Filter([ex('a+b(c).txt')]);
    expect([f.excluded('a+b(c).txt', false), f.excluded('aab(c)xtxt', false)]).toEqual([true, false]);
    expect(() => new Filter([ex('')])).toThrow(/--exclude "": the pattern is empty/);
    expect(() => new Filter([ex('/')])).toThrow(/empty/);
    expect(() => new Filter([{ action: 'drop', pattern: 'x' } as never])).toThrow(/exclude or include/);
    expect(() => new Filter('x' as never)).toThrow(/a list/);
    expect(new Filter([]).excluded('anything', false)).toBe(false);
  });
});

describe('a hostile pattern', () => {
  it('matches in time proportional to path times pattern (no backtracking blow-up)', () => {
    const f = new Filter([ex(`${'*a'.repeat(200)}b`), ex(`${'**a'.repeat(200)}b`)]);
    const path = 'a'.repeat(4000);
    const started = performance.now();
    expect(f.excluded(path, false)).toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
