import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MPOP_BIN } from '../fleet.js';
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

/** version writes a site whose every file says which version it is (many small files and a bigger one). */
function version(dir: string, v: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < 100; i++) {
    mkdirSync(join(dir, `d${i % 10}`), { recursive: true });
    writeFileSync(join(dir, `d${i % 10}`, `f${i}.txt`), `${v} ${i}\n`);
  }
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(512 * 1024, v));
  writeFileSync(join(dir, 'index.html'), `${v}\n`);
  if (v === 'B') writeFileSync(join(dir, 'only-in-b.txt'), 'b');
}

describe('a deploy killed with SIGKILL (the built bin)', () => {
  let fleet: NsFleet;
  let path: string;
  const work = mkdtempSync(join(tmpdir(), 'mpop-deploy-kill-'));
  const site = join(work, 'site');
  const expected: Record<string, Record<string, string>> = {};
  const targets = ['n1', 'n2'];
  const deploy = (): ReturnType<typeof execa> => execa(process.execPath, [MPOP_BIN, 'deploy', site, `n1,n2:${path}`, '--keep', '3'], { env: fleet.env, reject: false, stdin: 'ignore' });
  /** onRelease tells which version a node serves: old, new, or mixed (which must never be). */
  const onRelease = (n: string, old: string, next: string): string => {
    expect(readlinkSync(fleet.at(n, path))).toMatch(/^site\.releases\/\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    const got = JSON.stringify(contents(fleet.at(n, path)));
    return got === JSON.stringify(expected[old]) ? 'old' : got === JSON.stringify(expected[next]) ? 'new' : 'mixed';
  };
  const settle = async (v: string): Promise<void> => {
    version(site, v);
    const r = await fleet.mpop(['deploy', site, `n1,n2:${path}`, '--keep', '3']);
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
    for (const n of targets) {
      expect(contents(fleet.at(n, path))).toEqual(expected[v]);
      expect(readdirSync(fleet.at(n, path + '.releases')).filter((x) => x.startsWith('.') && x !== '.lock')).toEqual([]);
    }
  };

  beforeAll(async () => {
    fleet = await nsFleet(targets);
    path = join(fleet.base, 'site');
    for (const v of ['A', 'B']) {
      version(site, v);
      expected[v] = contents(site);
    }
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('at the worst moments (filling the release, just renamed, the new link made): old or new, and the next deploy cleans up', async () => {
    await settle('A');
    let current = 'A';
    const releases = (): string[] => readdirSync(fleet.at('n1', path + '.releases'));
    const live = (): string => readlinkSync(fleet.at('n1', path)).split('/')[1]!;
    const moments: Record<string, () => boolean> = {
      filling: () => releases().some((x) => x.startsWith('.incoming-')),
      renamed: () => releases().some((x) => /^\d/.test(x) && x > live()),
      linked: () => releases().some((x) => x.startsWith('.link-')),
    };
    const hit: Record<string, string> = {};
    for (const [moment, when] of Object.entries(moments)) {
      const next = current === 'A' ? 'B' : 'A';
      version(site, next);
      const child = deploy();
      const t0 = performance.now();
      while (!when() && child.exitCode === undefined && child.pid && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 2));
      child.kill('SIGKILL');
      const r = await child;
      hit[moment] = r.signal === 'SIGKILL' ? 'killed' : 'ran to its end first';
      for (const n of targets) expect(onRelease(n, current, next), `${n} killed while ${moment}`).not.toBe('mixed');
      await settle(next);
      current = next;
    }
    console.log('kills at the worst moments:', hit);
    expect(hit.filling).toBe('killed');
  }, 120_000);

  it('at random moments, many times: every node is on exactly the old or the new release', async () => {
    await settle('A');
    let t0 = performance.now();
    await fleet.mpop(['servers']);
    const startup = performance.now() - t0; // the CLI's own start (nothing happens on the nodes yet)
    t0 = performance.now();
    await settle('B');
    const full = performance.now() - t0;
    let current = 'B';
    const seen: Record<string, number> = { old: 0, new: 0 };
    for (let i = 0; i < 6; i++) {
      const next = current === 'A' ? 'B' : 'A';
      version(site, next);
      const child = deploy();
      await new Promise((r) => setTimeout(r, startup * 0.8 + Math.random() * (full - startup * 0.8) * 1.1));
      child.kill('SIGKILL');
      await child;
      for (const n of targets) {
        const which = onRelease(n, current, next);
        expect(which, `${n} after kill ${i}`).not.toBe('mixed');
        seen[which]!++;
      }
      // every other round, the next deploy runs to its end over what the killed one left
      if (i % 2 === 1) {
        await settle(next);
        current = next;
      }
    }
    console.log(`a deploy took ${Math.round(full)} ms (${Math.round(startup)} ms to start); after the kills, nodes were on the old release / the new one:`, seen);
    await settle(current === 'A' ? 'B' : 'A');
    expect(existsSync(fleet.at('n1', path))).toBe(true);
  }, 150_000);
});
