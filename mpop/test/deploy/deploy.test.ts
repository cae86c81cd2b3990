import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFleet } from '../../src/deploy/deploy.js';
import { listReleases, rollbackFleet } from '../../src/deploy/releases.js';
import { NsFleet, nsFleet } from './nsfleet.js';

/** tree writes files under a fresh local folder. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mpop-site-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('deploy over real daemons, each node in its own mount namespace', () => {
  let fleet: NsFleet;
  let site: string;
  let path: string;
  const live = (node: string): string => readlinkSync(fleet.at(node, path));
  const served = (node: string, file = 'index.html'): string => readFileSync(join(fleet.at(node, path), file), 'utf8');
  const releasesOn = (node: string): string[] => readdirSync(fleet.at(node, path + '.releases')).filter((x) => x !== '.lock').sort(); // .lock: deploy's flock file

  beforeAll(async () => {
    fleet = await nsFleet(['n1', 'n2', 'n3']);
    path = join(fleet.base, 'site');
    site = tree({ 'index.html': 'v1\n', 'css/app.css': 'body{}\n', 'big.bin': 'x'.repeat(100_000) });
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    rmSync(site, { recursive: true, force: true });
  });

  it('a first deploy makes PATH a relative symlink to a complete release on every node', async () => {
    const run = await deployFleet(fleet.pool, ['n1', 'n2', 'n3'], { local: site, path });
    expect(run.results.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
    for (const r of run.results) {
      expect(r.changed).toBe(true);
      expect(r.value!.previous).toBeUndefined();
      expect(r.value!.crossed.files).toBe(3);
      expect(live(r.node)).toBe(`site.releases/${r.value!.release}`);
      expect(served(r.node)).toBe('v1\n');
      expect(releasesOn(r.node)).toEqual([r.value!.release]);
    }
  });

  it('a deploy of the same tree sends nothing (the copy made on the node is already equal) and switches to a new release', async () => {
    const before = live('n1');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path });
    const v = run.results[0]!.value!;
    expect(run.results[0]!.outcome).toBe('ok');
    expect(v.crossed).toEqual({ files: 0, bytes: 0, unchanged: 3, deleted: 0 });
    expect(`site.releases/${v.previous}`).toBe(before);
    expect(live('n1')).toBe(`site.releases/${v.release}`);
    expect(releasesOn('n1')).toHaveLength(2);
  });

  it('a changed file crosses alone; a removed one is deleted from the new release only', async () => {
    writeFileSync(join(site, 'index.html'), 'v2\n');
    rmSync(join(site, 'css'), { recursive: true });
    const oldLive = live('n1');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path });
    const v = run.results[0]!.value!;
    expect(v.crossed.files).toBe(1);
    expect(v.crossed.bytes).toBe(3);
    expect(v.crossed.deleted).toBeGreaterThanOrEqual(1);
    expect(served('n1')).toBe('v2\n');
    expect(existsSync(join(fleet.at('n1', path), 'css'))).toBe(false);
    // the previous release is untouched (a copy, not links written through)
    expect(readFileSync(join(fleet.at('n1', fleet.base), oldLive, 'index.html'), 'utf8')).toBe('v1\n');
    expect(existsSync(join(fleet.at('n1', fleet.base), oldLive, 'css/app.css'))).toBe(true);
  });

  it('releases lists them newest first with the live one marked; rollback goes back and removes the one it left', async () => {
    const list = await listReleases(fleet.pool, ['n1'], path);
    const rel = list.results[0]!.value!;
    expect(rel.kind).toBe('release-link');
    expect(rel.releases).toHaveLength(3);
    expect(rel.releases[0]!.live).toBe(true);
    expect(rel.previous).toBe(rel.releases[1]!.id);
    const rb = await rollbackFleet(fleet.pool, ['n1'], { path });
    expect(rb.results[0]!.outcome).toBe('ok');
    expect(rb.results[0]!.value!.to).toBe(rel.releases[1]!.id);
    expect(rb.results[0]!.value!.removed).toEqual([rel.releases[0]!.id]);
    expect(served('n1')).toBe('v1\n');
    expect(releasesOn('n1')).toEqual([rel.releases[2]!.id, rel.releases[1]!.id].sort());
  });

  it('rollback --to a release that is not there, and a rollback with no earlier release, fail clearly', async () => {
    const rb = await rollbackFleet(fleet.pool, ['n1', 'n2'], { path, to: '20000101T000000Z-0000' });
    expect(rb.results.map((r) => r.error?.code)).toEqual(['MPOP_NO_RELEASE', 'MPOP_NO_RELEASE']);
    expect(rb.results[1]!.error!.message).toMatch(/n2 has no release 20000101T000000Z-0000/);
    const none = await rollbackFleet(fleet.pool, ['n2'], { path });
    expect(none.results[0]!.outcome).toBe('failed');
    expect(none.results[0]!.error).toMatchObject({ code: 'MPOP_NO_RELEASE' });
    expect(none.results[0]!.error!.message).toMatch(/no release before/);
    expect(served('n2')).toBe('v1\n');
  });

  it('keeps --keep releases (never fewer than the live one and the one before)', async () => {
    for (let i = 0; i < 4; i++) await deployFleet(fleet.pool, ['n3'], { local: site, path, keep: 2 });
    expect(releasesOn('n3')).toHaveLength(2);
    const run = await deployFleet(fleet.pool, ['n3'], { local: site, path, keep: 1 });
    expect(run.results[0]!.value!.pruned).toHaveLength(1);
    expect(releasesOn('n3')).toHaveLength(2);
    expect(releasesOn('n3')).toContain(run.results[0]!.value!.release);
    expect(releasesOn('n3')).toContain(run.results[0]!.value!.previous);
  });

  it('a health check failing on one node rolls that node back (it serves the old content) and stops the rollout', async () => {
    writeFileSync(join(site, 'index.html'), 'v3\n');
    const before = { n1: live('n1'), n2: live('n2'), n3: live('n3') };
    // n2 fails: its health check reads its own hostname-free marker, a file only n2 has
    writeFileSync(join(fleet.at('n2', fleet.base), 'sick'), '');
    const health = `test ! -e ${fleet.base}/sick && grep -q v3 ${path}/index.html`;
    const run = await deployFleet(fleet.pool, ['n1', 'n2', 'n3'], { local: site, path, health, healthTimeoutMs: 1500, restart: 'true' }, { batch: 1 });
    const by = Object.fromEntries(run.results.map((r) => [r.node, r]));
    expect(by.n1!.outcome).toBe('ok'); // the canary
    expect(by.n2!.outcome).toBe('failed');
    expect(by.n2!.error!.code).toBe('MPOP_HEALTH');
    expect(by.n2!.value!.status).toBe('rolled-back');
    expect(by.n2!.value!.rollbackRestart?.ok).toBe(true);
    expect(by.n3!.outcome).toBe('skipped');
    expect(run.stopped).toMatch(/n2/);
    expect(served('n1')).toBe('v3\n');
    expect(live('n2')).toBe(before.n2);
    expect(served('n2')).toBe('v1\n');
    expect(releasesOn('n2')).toEqual([before.n2.split('/')[1]]); // the failed release is gone
    expect(live('n3')).toBe(before.n3);
    rmSync(join(fleet.at('n2', fleet.base), 'sick'));
  });

  it('a failing --restart is rolled back like a failed health check, with its output', async () => {
    const before = live('n2');
    const run = await deployFleet(fleet.pool, ['n2'], { local: site, path, restart: 'test "$MPOP_RELEASE" != "${MPOP_RELEASE_DIR##*/}" || { echo "reload failed" >&2; exit 3; }' });
    const r = run.results[0]!;
    expect(r.outcome).toBe('failed');
    expect(r.error!.message).toMatch(/--restart exited 3: reload failed/);
    expect(r.value!.rollbackRestart!.ok).toBe(false); // the same command, again on the old release
    expect(live('n2')).toBe(before);
  });

  it('a node that is down is unreachable and stops the rollout; the others keep their release', async () => {
    await fleet.stop('n3');
    try {
      const run = await deployFleet(fleet.pool, ['n3', 'n1'], { local: site, path }, { batch: 1 });
      expect(run.results.map((r) => r.outcome)).toEqual(['unreachable', 'skipped']);
    } finally {
      await fleet.start('n3');
    }
  });

  it('a release newer than the live one (a deploy killed before its switch) and leftovers are removed by the next deploy', async () => {
    const rel = fleet.at('n1', path + '.releases');
    const future = '29991231T235959Z-dead';
    mkdirSync(join(rel, future));
    writeFileSync(join(rel, future, 'index.html'), 'never live\n');
    mkdirSync(join(rel, '.incoming-20000101T000000Z-0000', 'x'), { recursive: true });
    mkdirSync(join(rel, '.trash-0000'));
    writeFileSync(join(rel, 'notes.txt'), 'mine');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path });
    const v = run.results[0]!.value!;
    expect(run.results[0]!.outcome).toBe('ok');
    expect(v.pruned).toContain(future);
    expect(v.cleaned.sort()).toEqual(['.incoming-20000101T000000Z-0000', '.trash-0000']);
    expect(v.release > future).toBe(true); // still sorts after every release that was there
    expect(releasesOn('n1').filter((x) => x.startsWith('.') || x === future)).toEqual([]);
    expect(readFileSync(join(rel, 'notes.txt'), 'utf8')).toBe('mine'); // what deploy did not make is left alone
    rmSync(join(rel, 'notes.txt'));
  });

  it('refuses a foreign symlink or a file at PATH, leaving it as it is', async () => {
    const other = join(fleet.base, 'other');
    symlinkSync('/etc', fleet.at('n2', other));
    const a = await deployFleet(fleet.pool, ['n2'], { local: site, path: other });
    expect(a.results[0]!.error!.message).toMatch(/is a symlink to "\/etc", not to a release/);
    expect(readlinkSync(fleet.at('n2', other))).toBe('/etc');
    const file = join(fleet.base, 'file');
    writeFileSync(fleet.at('n2', file), 'x');
    const b = await deployFleet(fleet.pool, ['n2'], { local: site, path: file });
    expect(b.results[0]!.error!.message).toMatch(/is a file/);
  });

  it('a health check that passes after a few tries is retried until it does', async () => {
    const flag = join(fleet.base, 'tries');
    const health = `n=$(cat ${flag} 2>/dev/null || echo 0); echo $((n+1)) > ${flag}; test $n -ge 2`;
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path, health, healthTimeoutMs: 20_000 });
    expect(run.results[0]!.outcome).toBe('ok');
    expect(run.results[0]!.value!.health).toMatchObject({ ok: true, attempts: 3 });
  });

  it('a health check that never passes in time is timed as asked, and the node rolled back', async () => {
    const before = live('n1');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path, health: 'echo not yet; exit 7', healthTimeoutMs: 2500 });
    const r = run.results[0]!;
    expect(r.outcome).toBe('failed');
    expect(r.value!.health!.attempts).toBeGreaterThanOrEqual(2);
    expect(r.error!.message).toMatch(/--health exited 7 after \d+ attempts: not yet; back on/);
    expect(live('n1')).toBe(before);
  });

  it('a rolled-back first deploy leaves PATH as it was: not there', async () => {
    const fresh = join(fleet.base, 'fresh');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path: fresh, health: 'false', healthTimeoutMs: 1000 });
    expect(run.results[0]!.error!.message).toMatch(/removed again \(this was its first release\)/);
    expect(existsSync(fleet.at('n1', fresh))).toBe(false);
    expect(readdirSync(fleet.at('n1', fresh + '.releases'))).toEqual(['.lock']);
  });

  it('excluded paths are not sent, and what they match on the node is kept from the live release (not deleted)', async () => {
    writeFileSync(join(site, 'debug.log'), 'local log');
    const liveDir = fleet.at('n1', path);
    const cur = readlinkSync(liveDir);
    // a file the node made itself in its live release (an upload, a cache)
    writeFileSync(join(fleet.at('n1', fleet.base), cur, 'node.log'), 'node log');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path, exclude: ['*.log'] });
    expect(run.results[0]!.outcome).toBe('ok');
    expect(existsSync(join(liveDir, 'debug.log'))).toBe(false);
    expect(readFileSync(join(liveDir, 'node.log'), 'utf8')).toBe('node log');
    rmSync(join(site, 'debug.log'));
  });

  it('a path with spaces, a leading dash in a name and unicode; hooks run in the release folder', async () => {
    const odd = join(fleet.base, 'my site', '-n ünï');
    const run = await deployFleet(fleet.pool, ['n2'], { local: site, path: odd, restart: 'test "$PWD" = "$MPOP_RELEASE_DIR" && test -f index.html' });
    expect(run.results[0]!.outcome, JSON.stringify(run.results[0]!.error)).toBe('ok');
    expect(readlinkSync(fleet.at('n2', odd))).toBe(`-n ünï.releases/${run.results[0]!.value!.release}`);
    expect(readFileSync(join(fleet.at('n2', odd), 'index.html'), 'utf8')).toBe(readFileSync(join(site, 'index.html'), 'utf8'));
  });

  it('a first deploy with --dry-run lists every file and makes nothing', async () => {
    const fresh = join(fleet.base, 'dry-first');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path: fresh, dryRun: true });
    expect(run.results[0]!.outcome, JSON.stringify(run.results[0]!.error)).toBe('ok');
    expect(run.results[0]!.value!.plan!.send.map((s) => s.path).sort()).toEqual(readdirSync(site).sort());
    expect(existsSync(fleet.at('n1', fresh))).toBe(false);
    expect(existsSync(fleet.at('n1', fresh + '.releases'))).toBe(false);
  });

  it('a node that never answers is given up on after --timeout; the others in its wave deploy', async () => {
    await fleet.addSilent('mute');
    const run = await deployFleet(fleet.pool, ['mute', 'n1'], { local: site, path }, { timeoutMs: 1500 });
    const by = Object.fromEntries(run.results.map((r) => [r.node, r]));
    expect(by.mute!.outcome).toMatch(/unreachable|timedout/);
    expect(by.n1!.outcome).toBe('ok');
    expect(live('n1')).toBe(`site.releases/${by.n1!.value!.release}`);
  });

  it('a second deploy or rollback of the same path while one runs is refused (the first holds the lock), and the first is unharmed', async () => {
    let second: Promise<Awaited<ReturnType<typeof deployFleet>>> | undefined;
    let rb: ReturnType<typeof rollbackFleet> | undefined;
    const first = deployFleet(fleet.pool, ['n1'], { local: site, path, health: 'sleep 1' }, {
      onStep: (_n, step) => {
        if (step !== 'health' || second) return;
        second = deployFleet(fleet.pool, ['n1'], { local: site, path });
        rb = rollbackFleet(fleet.pool, ['n1'], { path });
      },
    });
    const a = await first;
    const b = await second!;
    const c = await rb!;
    expect(a.results[0]!.outcome).toBe('ok');
    expect(b.results[0]!.outcome).toBe('failed');
    expect(b.results[0]!.error!.message).toMatch(/another deploy or rollback of .* is running on n1/);
    expect(c.results[0]!.error!.message).toMatch(/another deploy or rollback/);
    expect(live('n1')).toBe(`site.releases/${a.results[0]!.value!.release}`);
    // and the lock is free again once it ended
    expect((await deployFleet(fleet.pool, ['n1'], { local: site, path })).results[0]!.outcome).toBe('ok');
  });

  it('a chmod alone (same size and mtime) is not seen by size and mtime, and is brought over with checksum', async () => {
    const file = join(site, 'index.html');
    chmodSync(file, 0o600);
    const a = await deployFleet(fleet.pool, ['n1'], { local: site, path });
    expect(statSync(join(fleet.at('n1', path), 'index.html')).mode & 0o777).toBe(0o644); // vssh skips a file whose size and mtime match
    const b = await deployFleet(fleet.pool, ['n1'], { local: site, path, checksum: true });
    expect(b.results[0]!.value!.crossed.files).toBe(0); // compared by hash: the same bytes, nothing crosses
    expect(statSync(join(fleet.at('n1', path), 'index.html')).mode & 0o777).toBe(0o600);
    // and the release before it was not touched (a copy, not a hard link written through)
    expect(statSync(join(fleet.at('n1', fleet.base), 'site.releases', a.results[0]!.value!.release, 'index.html')).mode & 0o777).toBe(0o644);
    chmodSync(file, 0o644);
  });

  it('a node lost in the middle of its sync stays on its old release; once back, the next deploy cleans up and succeeds', async () => {
    expect((await deployFleet(fleet.pool, ['n3'], { local: site, path })).results[0]!.outcome).toBe('ok');
    const before = live('n3');
    let stopping: Promise<void> | undefined;
    const run = await deployFleet(fleet.pool, ['n3'], { local: site, path }, {
      onStep: (_n, step) => {
        if (step === 'sync' && !stopping) stopping = fleet.stop('n3');
      },
    });
    await stopping;
    expect(run.results[0]!.outcome).toMatch(/unreachable|failed/);
    expect(live('n3')).toBe(before);
    await fleet.start('n3');
    const again = await deployFleet(fleet.pool, ['n3'], { local: site, path });
    expect(again.results[0]!.outcome, JSON.stringify(again.results[0]!.error)).toBe('ok');
    expect(releasesOn('n3').filter((x) => x.startsWith('.'))).toEqual([]);
    expect(served('n3')).toBe(readFileSync(join(site, 'index.html'), 'utf8'));
  });

  it('refuses a plain folder at PATH, and says how to convert it', async () => {
    const plain = join(fleet.base, 'plain');
    mkdirSync(fleet.at('n1', plain));
    writeFileSync(join(fleet.at('n1', plain), 'keep.txt'), 'mine');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path: plain });
    expect(run.results[0]!.outcome).toBe('failed');
    expect(run.results[0]!.error!.message).toMatch(/is a plain folder.*mv .*plain .*plain\.orig/);
    expect(readFileSync(join(fleet.at('n1', plain), 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('--dry-run says what would cross and be deleted, and writes nothing', async () => {
    writeFileSync(join(site, 'new.txt'), 'new');
    const before = releasesOn('n1');
    const run = await deployFleet(fleet.pool, ['n1'], { local: site, path, dryRun: true });
    const v = run.results[0]!.value!;
    expect(v.status).toBe('dry-run');
    expect(v.plan!.send.map((s) => s.path)).toEqual(['new.txt']);
    expect(run.results[0]!.changed).toBe(false);
    expect(releasesOn('n1')).toEqual(before);
    rmSync(join(site, 'new.txt'));
  });
});
