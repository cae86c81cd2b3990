import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsshError } from '../../src/errors.js';
import { Channel } from '../../src/protocol/conn.js';
import { Call } from '../../src/client/call.js';
import { PART_SUFFIX } from '../../src/transfer/manifest.js';
import { Loop, loop, waitFor } from '../loopback.js';

let l: Loop;
let dir: string;
beforeAll(async () => {
  l = await loop();
  dir = mkdtempSync(join(tmpdir(), 'vssh-xfer-'));
});
afterAll(async () => {
  await l.close();
  rmSync(dir, { recursive: true, force: true });
});

/** tree writes a small tree with nested folders, modes, a symlink and an empty file. */
function tree(root: string): void {
  mkdirSync(join(root, 'a/b'), { recursive: true });
  writeFileSync(join(root, 'top.txt'), 'top\n');
  writeFileSync(join(root, 'a/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(root, 'a/b/data.bin'), randomBytes(300_000));
  writeFileSync(join(root, 'a/b/empty'), '');
  writeFileSync(join(root, 'a/secret'), 's', { mode: 0o600 });
  symlinkSync('b/data.bin', join(root, 'a/link'));
  utimesSync(join(root, 'top.txt'), 1_600_000_000, 1_600_000_000);
}

/** same asserts two trees hold the same paths, contents, modes, mtimes (seconds) and symlink targets. */
function same(a: string, b: string): void {
  const walk = (root: string, rel = ''): string[] => readdirSync(join(root, rel)).sort().flatMap((n) => {
    const r = rel ? `${rel}/${n}` : n;
    return lstatSync(join(root, r)).isDirectory() ? [r + '/', ...walk(root, r)] : [r];
  });
  expect(walk(b)).toEqual(walk(a));
  for (const p of walk(a)) {
    const [x, y] = [lstatSync(join(a, p)), lstatSync(join(b, p))];
    expect(y.mode, p).toBe(x.mode);
    if (x.isSymbolicLink()) expect(readlinkSync(join(b, p))).toBe(readlinkSync(join(a, p)));
    else if (x.isFile()) {
      expect(readFileSync(join(b, p)).equals(readFileSync(join(a, p))), p).toBe(true);
      expect(Math.round(y.mtimeMs)).toBe(Math.round(x.mtimeMs));
    }
  }
}

const parts = (d: string): string[] => (existsSync(d) ? readdirSync(d).filter((n) => n.endsWith(PART_SUFFIX)) : []);

describe('put, get and sync', () => {
  it('copy a tree both ways with contents, modes, mtimes and symlinks', async () => {
    const src = join(dir, 't1');
    tree(src);
    const put = await l.client.put(src, join(dir, 't1-remote'));
    expect(put.received.files).toBe(5);
    same(src, join(dir, 't1-remote'));
    const got = await l.client.get(join(dir, 't1-remote'), join(dir, 't1-back'));
    expect(got.received.files).toBe(5);
    same(src, join(dir, 't1-back'));
  });

  it('send nothing when nothing changed, one file when one changed, and compare by hash when only the mtime differs', async () => {
    const src = join(dir, 't2');
    const dst = join(dir, 't2-remote');
    tree(src);
    await l.client.put(src, dst);
    const again = await l.client.sync(src, dst);
    expect([again.received.files, again.sent.bytes, again.received.unchanged]).toEqual([0, 0, 5]);
    writeFileSync(join(src, 'a/run.sh'), '#!/bin/sh\necho changed\n', { mode: 0o755 });
    const one = await l.client.sync(src, dst);
    expect([one.received.files, one.received.unchanged]).toEqual([1, 4]);
    // same content, new mtime: compared by SHA-256, not sent, mtime brought in line
    utimesSync(join(src, 'a/b/data.bin'), 1_700_000_000, 1_700_000_000);
    const touched = await l.client.sync(src, dst);
    expect([touched.received.files, touched.sent.bytes, touched.sent.same]).toEqual([0, 0, 1]);
    expect(statSync(join(dst, 'a/b/data.bin')).mtimeMs).toBe(1_700_000_000_000);
    same(src, dst);
  });

  it('sync --delete removes what the source no longer has, and only with --delete', async () => {
    const src = join(dir, 't3');
    const dst = join(dir, 't3-remote');
    tree(src);
    await l.client.put(src, dst);
    rmSync(join(src, 'a/b'), { recursive: true });
    rmSync(join(src, 'top.txt'));
    await l.client.sync(src, dst);
    expect(existsSync(join(dst, 'top.txt'))).toBe(true);
    const r = await l.client.sync(src, dst, { delete: true });
    expect(r.received.deleted).toBe(2); // top.txt and the folder a/b with what it held
    same(src, dst);
  });

  it('puts a single file at a path, or into an existing folder under its own name', async () => {
    const f = join(dir, 'one.bin');
    writeFileSync(f, randomBytes(5000), { mode: 0o640 });
    await l.client.put(f, join(dir, 'renamed.bin'));
    expect(readFileSync(join(dir, 'renamed.bin')).equals(readFileSync(f))).toBe(true);
    mkdirSync(join(dir, 'into'));
    const r = await l.client.put(f, join(dir, 'into'));
    expect(r.received.target).toBe(join(dir, 'into', 'one.bin'));
    expect(statSync(join(dir, 'into', 'one.bin')).mode & 0o777).toBe(0o640);
    await l.client.put(f, join(dir, 'new/deep/one.bin')); // missing folders are made
    expect(readFileSync(join(dir, 'new/deep/one.bin')).equals(readFileSync(f))).toBe(true);
  });

  it('resumes a big file after the connection broke, leaving no partial file at the destination', async () => {
    const src = join(dir, 'big.bin');
    const data = randomBytes(48 * 1024 * 1024);
    writeFileSync(src, data);
    const dst = join(dir, 'big-remote.bin');
    let sent = 0;
    const cut = l.client.put(src, dst, {
      onBytes: (n) => {
        sent += n;
        if (sent > 20 * 1024 * 1024) l.client.close(); // the link drops mid-transfer
      },
    });
    await expect(cut).rejects.toBeInstanceOf(VsshError);
    await new Promise((r) => setTimeout(r, 300)); // the node notices the drop and closes the part file
    expect(existsSync(dst)).toBe(false);
    expect(parts(dir).length).toBe(1);
    const resumed = await l.client.put(src, dst); // the pool reconnects
    expect(resumed.sent.bytes).toBeLessThan(data.length - 10 * 1024 * 1024);
    expect(resumed.received.bytes).toBe(resumed.sent.bytes); // the receiver counts what crossed, not the whole file
    expect(readFileSync(dst).equals(data)).toBe(true);
    expect(parts(dir)).toEqual([]);
  });

  it('removes the part file of a broken transfer once the source has changed and the file is sent again', async () => {
    const folderOf = join(dir, 'stale');
    mkdirSync(folderOf);
    const src = join(dir, 'changing.bin');
    writeFileSync(src, randomBytes(32 * 1024 * 1024));
    const dst = join(folderOf, 'changing.bin');
    let sent = 0;
    const cut = l.client.put(src, dst, {
      onBytes: (n) => {
        sent += n;
        if (sent > 6 * 1024 * 1024) l.client.close();
      },
    });
    await expect(cut).rejects.toBeInstanceOf(VsshError);
    expect(await waitFor(() => parts(folderOf).length === 1)).toBe(true);
    writeFileSync(join(folderOf, '.changing.bin.other.vssh-part'), 'not ours: not named like a part of this file'); // left alone
    writeFileSync(join(folderOf, '.changing.bin.x.1-2.vssh-part'), 'a part of another file, "changing.bin.x"'); // left alone
    const changed = randomBytes(20 * 1024 * 1024); // the source changed meanwhile: the part cannot be resumed
    writeFileSync(src, changed);
    const r = await l.client.put(src, dst);
    expect(r.received.bytes).toBe(changed.length);
    expect(readFileSync(dst).equals(changed)).toBe(true);
    expect(parts(folderOf).sort()).toEqual(['.changing.bin.other.vssh-part', '.changing.bin.x.1-2.vssh-part']);
  });

  it('refuses a file whose bytes do not match their hash, writing nothing', async () => {
    // both forms: the hash after the bytes (`done`), and in the header (a small file sent whole)
    for (const inHeader of [false, true]) {
      const dst = join(dir, `damaged-${inHeader}`);
      const call = await l.client.call('put', { dest: dst });
      call.stream.msg({ manifest: [{ path: '', type: 'file', size: 5, mode: 0o644, mtimeMs: 1_600_000_000_000 }], more: false });
      const need = await call.next();
      expect(need?.kind === 'msg' && need.body.need).toEqual([{ i: 0 }]);
      call.stream.msg({ file: 0, offset: 0, size: 5, ...(inHeader ? { sha256: '0'.repeat(64) } : {}) });
      await call.stream.write(Channel.OUT, Buffer.from('hello'));
      if (!inHeader) call.stream.msg({ done: 0, sha256: '0'.repeat(64) });
      call.stream.end();
      const r = (await call.result()) as { failed: { error: string }[]; files: number };
      expect(r.files).toBe(0);
      expect(r.failed[0]!.error).toMatch(/SHA-256 mismatch/);
      expect(existsSync(dst)).toBe(false);
      expect(parts(dir)).toEqual([]);
    }
  });

  it('refuses manifest paths that climb out of the destination', async () => {
    for (const path of ['../escape', 'a/../../escape', '/etc/escape', 'a//b', './x']) {
      const call: Call = await l.client.call('put', { dest: join(dir, 'jail') });
      call.stream.msg({ manifest: [{ path: '', type: 'dir', size: 0, mode: 0o755, mtimeMs: 0 }, { path, type: 'file', size: 1, mode: 0o644, mtimeMs: 0 }], more: false });
      const err = await call.result().catch((e) => e);
      expect(err.code, path).toBe('VSSH_BAD_INPUT');
    }
    expect(existsSync(join(dir, 'escape'))).toBe(false);
  });

  it('keeps other requests moving while a big transfer runs on the same connection', async () => {
    const src = join(dir, 'fair.bin');
    writeFileSync(src, randomBytes(96 * 1024 * 1024));
    let bigDone = 0;
    const big = l.client.get(src, join(dir, 'fair-back.bin')).then(() => (bigDone = Date.now()));
    await new Promise((r) => setTimeout(r, 30));
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      await l.client.exec({ argv: ['true'] });
      times.push(Date.now());
    }
    await big;
    expect(times.at(-1)!).toBeLessThan(bigDone);
  });
});

describe('a full disk on the node', () => {
  const mnt = join(tmpdir(), `vssh-full-${process.pid}`);
  const root = process.getuid?.() === 0;
  it.skipIf(!root)('is refused clearly, leaves no file and no part file, and the daemon goes on', async () => {
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      const src = join(dir, 'toolarge.bin');
      writeFileSync(src, randomBytes(3 * 1024 * 1024));
      const err = await l.client.put(src, join(mnt, 'x.bin')).catch((e) => e);
      expect(err.code).toBe('VSSH_DISK_FULL');
      expect(err.message).toMatch(/no space left/);
      expect(readdirSync(mnt)).toEqual([]);
      // a small tree into the same disk still works afterwards
      writeFileSync(join(dir, 'small.txt'), 'fits');
      await l.client.put(join(dir, 'small.txt'), join(mnt, 'small.txt'));
      expect(readFileSync(join(mnt, 'small.txt'), 'utf8')).toBe('fits');
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});

/** snapshot lists a tree's paths with type, size, mode and mtime, to show a dry run changed nothing. */
function snapshot(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const n of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(join(root, r));
      out.push(`${r} ${st.isDirectory() ? 'd' : st.size} ${st.mode.toString(8)} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  const top = lstatSync(root);
  return [`. ${top.mode.toString(8)} ${top.mtimeMs}`, ...out];
}

describe('several sources, --exclude / --include, and dry runs', () => {
  it('puts several sources into one folder, each under its name, or its contents with a trailing slash', async () => {
    const a = join(dir, 'multi/app');
    mkdirSync(join(a, 'lib'), { recursive: true });
    writeFileSync(join(a, 'lib/x.js'), 'x');
    writeFileSync(join(a, 'lib/x.js.map'), 'map');
    const conf = join(dir, 'multi/conf');
    mkdirSync(conf);
    writeFileSync(join(conf, 'settings.json'), '{}');
    writeFileSync(join(dir, 'multi/README'), 'read me');
    const dest = join(dir, 'multi-dest');
    mkdirSync(dest, { mode: 0o700 });
    utimesSync(dest, 1_500_000_000, 1_500_000_000);
    const r = await l.client.put([a, `${conf}/`, join(dir, 'multi/README')], dest, { filter: [{ action: 'exclude', pattern: '*.map' }] });
    expect([r.received.files, r.excluded, r.received.failed]).toEqual([3, 1, []]);
    expect(readFileSync(join(dest, 'app/lib/x.js'), 'utf8')).toBe('x');
    expect(readFileSync(join(dest, 'settings.json'), 'utf8')).toBe('{}'); // the contents of conf/
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe('read me');
    expect(existsSync(join(dest, 'app/lib/x.js.map'))).toBe(false);
    // the folder that holds several sources keeps its own mode (its mtime moves as anything added to it)
    expect(statSync(dest).mode & 0o777).toBe(0o700);
    // two folders landing on one path merge; two files are refused before anything is sent
    mkdirSync(join(dir, 'multi/other/app/lib'), { recursive: true });
    writeFileSync(join(dir, 'multi/other/app/lib/y.js'), 'y');
    await l.client.put([a, `${join(dir, 'multi/other')}/`], dest);
    expect(readdirSync(join(dest, 'app/lib')).sort()).toEqual(['x.js', 'x.js.map', 'y.js']);
    writeFileSync(join(dir, 'multi/other/README'), 'another');
    const clash = await l.client.put([join(dir, 'multi/README'), `${join(dir, 'multi/other')}/`], dest).catch((e) => e);
    expect([clash.code, clash.message]).toEqual(['VSSH_BAD_INPUT', expect.stringContaining('"README" would come from both')]);
  });

  it('a dry run says what would be sent (with sizes, resumes and hash compares) and deleted, and writes nothing', async () => {
    const src = join(dir, 'dry-src');
    mkdirSync(join(src, 'keep'), { recursive: true });
    writeFileSync(join(src, 'new.txt'), 'n'.repeat(100));
    writeFileSync(join(src, 'changed.txt'), 'new content');
    writeFileSync(join(src, 'same.txt'), 'same');
    writeFileSync(join(src, 'touched.txt'), 'touched');
    writeFileSync(join(src, 'keep/k'), 'k');
    const dest = join(dir, 'dry-dest');
    await l.client.put(src, dest);
    writeFileSync(join(src, 'changed.txt'), 'other content!');
    utimesSync(join(src, 'touched.txt'), 1_600_000_000, 1_600_000_000); // same bytes, new mtime: compared by hash
    writeFileSync(join(src, 'brand-new.bin'), randomBytes(2000));
    mkdirSync(join(src, 'newdir/deeper'), { recursive: true });
    writeFileSync(join(src, 'newdir/deeper/f'), 'f');
    symlinkSync('new.txt', join(src, 'link'));
    rmSync(join(src, 'same.txt'));
    writeFileSync(join(src, 'same.txt'), 'same'); // rewritten: same bytes, new mtime
    mkdirSync(join(dest, 'extra'));
    writeFileSync(join(dest, 'extra/e'), 'e');
    writeFileSync(join(dest, 'stray.log'), 'log');
    writeFileSync(join(dest, 'protected.cache'), 'c');
    const before = snapshot(dest);
    const r = await l.client.sync(src, dest, { delete: true, dryRun: true, filter: [{ action: 'exclude', pattern: '*.cache' }] });
    expect(snapshot(dest)).toEqual(before); // nothing made, written, chmodded, touched or deleted
    expect(existsSync(join(dest, 'newdir'))).toBe(false);
    expect(r.dryRun!.send.map((f) => [f.path, f.size, f.bytes]).sort()).toEqual([['brand-new.bin', 2000, 2000], ['changed.txt', 14, 14], ['newdir/deeper/f', 1, 1]]);
    expect(r.dryRun!.bytes).toBe(2015);
    expect(r.dryRun!.unchanged).toBe(4); // new.txt and keep/k by size and mtime, same.txt and touched.txt by hash
    expect(r.dryRun!.delete.sort()).toEqual(['extra/', 'stray.log']); // protected.cache is excluded, so kept
    expect(r.dryRun!.deleted).toBe(2);
    // the real run does what the dry run said
    const real = await l.client.sync(src, dest, { delete: true, filter: [{ action: 'exclude', pattern: '*.cache' }] });
    expect([real.received.files, real.received.deleted, real.received.bytes]).toEqual([3, 2, 2015]);
    expect(existsSync(join(dest, 'protected.cache'))).toBe(true);
    expect(readlinkSync(join(dest, 'link'))).toBe('new.txt');
  });

  it('a dry run of a resumable file counts only the rest', async () => {
    const src = join(dir, 'dry-big.bin');
    writeFileSync(src, randomBytes(16 * 1024 * 1024));
    const dst = join(dir, 'dry-big-dest', 'big.bin');
    let sent = 0;
    const cut = l.client.put(src, dst, {
      onBytes: (n) => {
        sent += n;
        if (sent > 4 * 1024 * 1024) l.client.close();
      },
    });
    await expect(cut).rejects.toBeInstanceOf(VsshError);
    expect(await waitFor(() => parts(join(dir, 'dry-big-dest')).length === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const partSize = statSync(join(dir, 'dry-big-dest', parts(join(dir, 'dry-big-dest'))[0]!)).size;
    const r = await l.client.put(src, dst, { dryRun: true });
    expect(r.dryRun!.send).toEqual([{ path: 'dry-big.bin', size: 16 * 1024 * 1024, bytes: 16 * 1024 * 1024 - partSize }]);
    expect(parts(join(dir, 'dry-big-dest')).length).toBe(1); // the part file is still there, untouched
  });
});
