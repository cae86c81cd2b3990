import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NsFleet, nsFleet } from './nsfleet.js';

/** contents maps every file under dir (followed through a symlinked root, not below) to the SHA-256 of its bytes. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out[relative(dir, p)] = st.isSymbolicLink() ? 'link:' + readlinkSync(p) : createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('mpop deploy / releases / rollback (the built bin)', () => {
  let fleet: NsFleet;
  let path: string;
  const work = mkdtempSync(join(tmpdir(), 'mpop-deploy-cli-'));
  beforeAll(async () => {
    fleet = await nsFleet(['n1', 'n2', 'n3'], { policy: (n) => (n === 'n3' ? { allowPaths: [join('/nonexistent-allowed')] } : undefined) });
    path = join(fleet.base, 'site');
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a hostile tree (spaces, newlines, leading dashes, unicode, a symlink) arrives exactly; --json says what crossed', async () => {
    const site = join(work, 'hostile');
    mkdirSync(join(site, '-rf --no-preserve-root'), { recursive: true });
    writeFileSync(join(site, '-rf --no-preserve-root', '--help'), 'dash\n');
    writeFileSync(join(site, 'with space\nand newline'), 'nl\n');
    writeFileSync(join(site, 'ünïcødé ☃.txt'), 'u\n');
    writeFileSync(join(site, '$(touch pwned)'), 'sh\n');
    writeFileSync(join(site, "it's \"quoted\""), 'q\n');
    symlinkSync('ünïcødé ☃.txt', join(site, '-> the unicode one'));
    const r = await fleet.mpop(['deploy', site, `n1,n2:${path}`, '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.nodes.map((n: { outcome: string; changed: boolean; crossed: { files: number } }) => [n.outcome, n.changed, n.crossed.files])).toEqual([['ok', true, 5], ['ok', true, 5]]);
    for (const n of ['n1', 'n2']) expect(contents(fleet.at(n, path))).toEqual(contents(site));
    expect(existsSync(join(fleet.at('n1', fleet.base), 'pwned'))).toBe(false);
    const last = JSON.parse(readFileSync(join(fleet.home, 'mpop', 'last-run.json'), 'utf8'));
    expect(last).toMatchObject({ command: 'deploy', changed: ['n1', 'n2'], failed: [] });
  });

  it('a node whose vssh policy does not allow the path fails on its own with a message naming the policy; @failed is it', async () => {
    const site = join(work, 'hostile');
    const r = await fleet.mpop(['deploy', site, `all:${path}`]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stdout)).toMatch(/n3: .*policy does not allow .*site\.releases/);
    expect(String(r.stdout)).toMatch(/ok\s+2\s+n\[1-2\]/);
    const last = JSON.parse(readFileSync(join(fleet.home, 'mpop', 'last-run.json'), 'utf8'));
    expect(last.failed).toEqual(['n3']);
    const again = await fleet.mpop(['releases', `@failed:${path}`, '--json']);
    expect(JSON.parse(String(again.stdout)).nodes.map((n: { node: string }) => n.node)).toEqual(['n3']);
  });

  it('usage errors are clear and exit 2; a rollback with no earlier release exits 1 with the reason', async () => {
    const bad = await fleet.mpop(['deploy', join(work, 'nope'), `n1:${path}`]);
    expect([bad.exitCode, String(bad.stderr)]).toEqual([2, expect.stringMatching(/nope is not there/)]);
    const rel = await fleet.mpop(['deploy', join(work, 'hostile'), 'n1:site']);
    expect([rel.exitCode, String(rel.stderr)]).toEqual([2, expect.stringMatching(/is not TARGET:PATH/)]);
    const flagsFirst = await fleet.mpop(['deploy', '-x', '*.log', '--exclude', 'tmp/', join(work, 'hostile'), `n1:${path}`, '--dry-run']);
    expect(flagsFirst.exitCode, String(flagsFirst.stderr)).toBe(0);
    expect(String(flagsFirst.stdout)).toMatch(/n1\s+would send/);
    const empty = await fleet.mpop(['deploy', join(work, 'hostile'), `n1:${path}`, '--exclude', '/']);
    expect([empty.exitCode, String(empty.stderr)]).toEqual([2, expect.stringMatching(/--exclude "\/" is not a pattern/)]);
    const root = await fleet.mpop(['releases', 'n1:/']);
    expect(root.exitCode).toBe(2);
    const to = await fleet.mpop(['rollback', `n1:${path}`, '--to', 'yesterday']);
    expect([to.exitCode, String(to.stderr)]).toEqual([2, expect.stringMatching(/not a release id/)]);
    const once = join(fleet.base, 'once');
    expect((await fleet.mpop(['deploy', join(work, 'hostile'), `n1:${once}`])).exitCode).toBe(0);
    const none = await fleet.mpop(['rollback', `n1:${once}`, '--json']);
    expect(none.exitCode).toBe(1);
    expect(JSON.parse(String(none.stdout)).nodes[0].error).toMatchObject({ code: 'MPOP_NO_RELEASE', message: expect.stringMatching(/no release before/) });
    const never = await fleet.mpop(['rollback', `n1:${join(fleet.base, 'never')}`]);
    expect([never.exitCode, String(never.stdout)]).toEqual([1, expect.stringMatching(/was never deployed on n1/)]);
  });

});
