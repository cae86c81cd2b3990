import { describe, expect, it } from 'vitest';
import { deployPaths, parseProbe, prunable, releaseAfter, splitTargetPath, stale, previousOf, newReleaseId, RELEASE_ID } from '../../src/deploy/layout.js';

const p = deployPaths('/var/www/site');
/** probe builds find's NUL-separated output: depth, type, path, link text. */
const probe = (rows: [number, string, string, string?][]): string => rows.map(([d, y, path, l]) => `${d}\0${y}\0${path}\0${l ?? ''}\0`).join('');

describe('deploy layout', () => {
  it('checks PATH: absolute, not /, no . or .., no newline; TARGET:PATH splits at the first :/', () => {
    expect(deployPaths('/srv/app/').releases).toBe('/srv/app.releases');
    expect(deployPaths('/srv/app').linkTo('X')).toBe('app.releases/X');
    for (const bad of ['srv/app', '/', '//', '/srv/../etc', '/srv/./app', '/a\nb']) expect(() => deployPaths(bad), bad).toThrow(/absolute|replace \/|\. or \.\.|newline/);
    expect(splitTargetPath('@web:/var/www/site')).toEqual({ target: '@web', path: '/var/www/site' });
    expect(splitTargetPath('web-*,!web-3:/srv/a:b/c')).toEqual({ target: 'web-*,!web-3', path: '/srv/a:b/c' });
    expect(() => splitTargetPath('/var/www')).toThrow(/TARGET:PATH/);
    expect(() => splitTargetPath('web:relative')).toThrow(/TARGET:PATH/);
  });

  it('reads the probe: the live release, releases sorted, leftovers, strangers; names with newlines read back exactly', () => {
    const st = parseProbe(
      p,
      probe([
        [0, 'l', '/var/www/site', 'site.releases/20261202T071500Z-3f2a'],
        [0, 'd', '/var/www/site.releases'],
        [1, 'd', '/var/www/site.releases/20261202T071500Z-3f2a'],
        [1, 'd', '/var/www/site.releases/20261201T000000Z-0000'],
        [1, 'd', '/var/www/site.releases/20261203T000000Z-ffff'],
        [1, 'd', '/var/www/site.releases/.incoming-20261203T000001Z-aaaa'],
        [1, 'l', '/var/www/site.releases/.link-x\nwith newline'],
        [1, 'f', '/var/www/site.releases/notes.txt'],
        [1, 'f', '/var/www/site.releases/20261204T000000Z-1111'], // a file, not a release
      ]),
    );
    expect(st).toMatchObject({ kind: 'release-link', live: '20261202T071500Z-3f2a', hasReleasesDir: true });
    expect(st.releases).toEqual(['20261201T000000Z-0000', '20261202T071500Z-3f2a', '20261203T000000Z-ffff']);
    expect(st.junk).toEqual(['.incoming-20261203T000001Z-aaaa', '.link-x\nwith newline']);
    expect(st.strangers).toEqual(['notes.txt', '20261204T000000Z-1111']);
    expect(previousOf(st)).toBe('20261201T000000Z-0000');
    expect(stale(st)).toEqual(['20261203T000000Z-ffff']);
  });

  it('tells a plain folder, a foreign link, a link to a missing release, a file, and nothing at all', () => {
    expect(parseProbe(p, probe([[0, 'd', '/var/www/site'], [1, 'f', '/var/www/site/index.html']])).kind).toBe('folder');
    expect(parseProbe(p, probe([[0, 'l', '/var/www/site', '/opt/elsewhere']])).kind).toBe('foreign-link');
    expect(parseProbe(p, probe([[0, 'l', '/var/www/site', '/var/www/site.releases/20261202T071500Z-3f2a'], [0, 'd', '/var/www/site.releases']])).kind).toBe('foreign-link');
    expect(parseProbe(p, probe([[0, 'l', '/var/www/site', '/var/www/site.releases/20261202T071500Z-3f2a'], [0, 'd', '/var/www/site.releases'], [1, 'd', '/var/www/site.releases/20261202T071500Z-3f2a']]))).toMatchObject({ kind: 'release-link', live: '20261202T071500Z-3f2a' });
    expect(parseProbe(p, probe([[0, 'f', '/var/www/site']])).kind).toBe('other');
    const none = parseProbe(p, '');
    expect(none).toMatchObject({ kind: 'missing', hasReleasesDir: false, releases: [] });
    expect(stale(none)).toEqual([]);
    expect(previousOf(none)).toBeUndefined();
  });

  it('a new id sorts after the newest release even when the clock is behind; ids have the documented form', () => {
    expect(newReleaseId(new Date('2026-12-02T07:15:00.123Z'))).toMatch(/^20261202T071500Z-[0-9a-f]{4}$/);
    expect(newReleaseId()).toMatch(RELEASE_ID);
    expect(releaseAfter('20261202T071500Z-0001', '20261202T071500Z-ffff')).toBe('20261202T071501Z-0001');
    expect(releaseAfter('20251202T071500Z-0001', '20261202T071500Z-ffff')).toBe('20261202T071501Z-0001');
    expect(releaseAfter('20271202T071500Z-0001', '20261202T071500Z-ffff')).toBe('20271202T071500Z-0001');
    expect(releaseAfter('20261231T235959Z-0001', '20261231T235959Z-ffff')).toBe('20270101T000000Z-0001');
  });

  it('prunes past --keep, never the live release or the one before it, never one newer than live', () => {
    const r = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    expect(prunable(r, 'a6', 3)).toEqual(['a1', 'a2', 'a3']);
    expect(prunable(r, 'a6', 1)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(prunable(r, 'a4', 2)).toEqual(['a1', 'a2']);
    expect(prunable(r, 'a6', 10)).toEqual([]);
  });
});
