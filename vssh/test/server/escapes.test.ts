import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../src/server/policy.js';
import { FrameType, encodeFrame } from '../../src/protocol/frame.js';
import { signRequest } from '../../src/protocol/auth.js';
import { partPath } from '../../src/transfer/receive.js';
import { Loop, loop, processesWith, waitFor } from '../loopback.js';

/**
 * A client that holds the node key but not the right to leave the policy's paths, trying the ways a
 * review found: manifests that turn a checked path into a symlink afterwards, planted part files, files
 * swapped for symlinks between a scan and a read, and the daemon's own internals.
 */
let dir: string;
let allowed: string;
let victim: string;
let l: Loop;
beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'vssh-esc-')));
  allowed = join(dir, 'allowed');
  victim = join(dir, 'victim');
  mkdirSync(allowed);
  mkdirSync(victim);
  writeFileSync(join(victim, 'secret'), 'TOP-SECRET-DATA');
  l = await loop({ policy: new Policy({ allowPaths: [allowed] }) });
});
afterAll(async () => {
  await l.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = (path: string, size = 1) => ({ path, type: 'file', size, mode: 0o644, mtimeMs: 1_600_000_000_000 });
const folder = (path: string) => ({ path, type: 'dir', size: 0, mode: 0o755, mtimeMs: 1_600_000_000_000 });
const link = (path: string, target: string) => ({ path, type: 'symlink', size: 0, mode: 0o777, mtimeMs: 1_600_000_000_000, target });

async function putManifest(dest: string, manifest: object[]): Promise<string | undefined> {
  const call = await l.client.call('put', { dest });
  call.stream.msg({ manifest, more: false });
  return call.result().then(() => undefined, (e) => e.code);
}

describe('put cannot write outside the allowed paths', () => {
  it('refuses a manifest that names a file before its folder, or a path twice', async () => {
    expect(await putManifest(join(allowed, 't1'), [folder(''), file('x/pwned'), link('x', victim)])).toBe('VSSH_BAD_INPUT');
    expect(await putManifest(join(allowed, 't2'), [folder(''), folder('x'), file('x/pwned'), link('x', victim)])).toBe('VSSH_BAD_INPUT');
    expect(await putManifest(join(allowed, 't3'), [folder(''), link('f', join(victim, 'secret')), file('f')])).toBe('VSSH_BAD_INPUT');
    expect(existsSync(join(victim, 'pwned'))).toBe(false);
  });

  it('refuses part-file names in a manifest, and does not follow a part file planted as a symlink', async () => {
    const e = file('f', 5);
    expect(await putManifest(join(allowed, 't4'), [folder(''), link(partPath('f', e as never), join(victim, 'secret')), e])).toBe('VSSH_BAD_INPUT');
    // planted by someone else beside the destination
    const src = join(dir, 'src.txt');
    writeFileSync(src, 'hello');
    const dest = join(allowed, 'planted.txt');
    const { mtimeMs, size } = (await import('node:fs')).statSync(src);
    symlinkSync(join(victim, 'secret'), partPath(dest, { path: '', type: 'file', size, mode: 0o644, mtimeMs: Math.round(mtimeMs) }));
    await l.client.put(src, dest);
    expect(readFileSync(dest, 'utf8')).toBe('hello');
    expect(readFileSync(join(victim, 'secret'), 'utf8')).toBe('TOP-SECRET-DATA');
  });

  it('refuses a `same` for a file it did not offer to compare (it would chmod through a symlink)', async () => {
    const call = await l.client.call('put', { dest: join(allowed, 't5') });
    call.stream.msg({ manifest: [folder(''), file('a')], more: false });
    await call.next(); // the need list
    call.stream.msg({ same: 1 });
    call.stream.end();
    expect(await call.result().then(() => undefined, (e) => e.code)).toBe('VSSH_FRAME_MALFORMED');
  });

  it('catches a folder swapped for a symlink after the plan, before it writes or renames', async () => {
    const dest = join(allowed, 'race');
    const call = await l.client.call('put', { dest });
    call.stream.msg({ manifest: [folder(''), folder('sub'), file('sub/f', 5)], more: false });
    const need = await call.next();
    expect(need?.kind === 'msg' && need.body.need).toEqual([{ i: 2 }]);
    renameSync(join(dest, 'sub'), join(dest, 'sub.old'));
    symlinkSync(victim, join(dest, 'sub')); // another request could have done this
    call.stream.msg({ file: 2, offset: 0, size: 5, sha256: createHash('sha256').update('owned').digest('hex') });
    await call.stream.write(0, Buffer.from('owned'));
    call.stream.end();
    const r = (await call.result()) as { files: number; failed: { error: string }[] };
    expect(r.files).toBe(0);
    expect(r.failed[0]!.error).toContain('allowPaths');
    expect(existsSync(join(victim, 'f'))).toBe(false);
  });

  it('does not write into a symlink that stands where the source has a folder', async () => {
    mkdirSync(join(allowed, 't6'));
    symlinkSync(allowed, join(allowed, 't6', 'sub')); // inside the allowed paths, so the policy lets it be
    const src = join(dir, 'tree6');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'x'), 'x');
    const r = await l.client.put(src, join(allowed, 't6'));
    expect(r.received.failed.map((f) => f.path)).toEqual(['sub', 'sub/x']);
    expect(existsSync(join(allowed, 'x'))).toBe(false);
  });
});

describe('put cannot plant a way out of the allowed paths', () => {
  it('refuses a symlink that points outside them, absolute or relative, and places one that stays inside', async () => {
    const dest = join(allowed, 'links');
    for (const target of [victim, join(victim, 'secret'), '../../victim/secret', '../..']) {
      expect(await putManifest(dest, [folder(''), link('out', target)]), target).toBe('VSSH_POLICY');
      expect(existsSync(join(dest, 'out'))).toBe(false);
    }
    const err = await putManifest(dest, [folder(''), link('out', victim)]);
    expect(err).toBe('VSSH_POLICY');
    const call = await l.client.call('put', { dest });
    call.stream.msg({ manifest: [folder(''), link('out', victim)], more: false });
    expect((await call.result().catch((e) => e)).message).toContain(`the symlink ${join(dest, 'out')} would point to ${victim}, outside the allowed paths`);
    const ok = await l.client.call('put', { dest });
    ok.stream.msg({ manifest: [folder(''), folder('d'), link('in', 'd'), link('up', '..'), link('abs', allowed)], more: false });
    ok.stream.end();
    await ok.result();
    expect([readlinkSync(join(dest, 'in')), readlinkSync(join(dest, 'abs'))]).toEqual(['d', allowed]);
  });

  it('without a path policy, places any symlink (as rsync -a does)', async () => {
    const open = await loop();
    try {
      const dest = join(dir, 'open-links');
      const call = await open.client.call('put', { dest });
      call.stream.msg({ manifest: [folder(''), link('out', victim)], more: false });
      call.stream.end();
      await call.result();
      expect(readlinkSync(join(dest, 'out'))).toBe(victim);
    } finally {
      await open.close();
    }
  });
});

describe('get cannot read outside the allowed paths', () => {
  it('refuses a file swapped for a symlink between the scan and the read', async () => {
    mkdirSync(join(allowed, 'g'));
    writeFileSync(join(allowed, 'g', 'f'), 'x'.repeat('TOP-SECRET-DATA'.length));
    const call = await l.client.call('get', { path: join(allowed, 'g') });
    const manifest = await call.next();
    expect(manifest?.kind === 'msg' && (manifest.body.manifest as { path: string }[]).map((e) => e.path)).toEqual(['', 'f']);
    unlinkSync(join(allowed, 'g', 'f'));
    symlinkSync(join(victim, 'secret'), join(allowed, 'g', 'f'));
    call.stream.msg({ need: [{ i: 1 }], more: false });
    let got = '';
    const err = await (async () => {
      for (let item = await call.next(); item; item = await call.next()) if (item.kind === 'data') got += item.bytes.toString();
    })().then(() => undefined, (e) => e);
    expect(got).not.toContain('TOP-SECRET');
    expect([err?.code, /allowPaths/.test(err?.message)]).toEqual(['VSSH_POLICY', true]);
  });

  it('without a path policy, still opens only regular files, never through a symlink', async () => {
    const open = await loop();
    try {
      mkdirSync(join(dir, 'k'));
      writeFileSync(join(dir, 'k', 'f'), 'x'.repeat('TOP-SECRET-DATA'.length));
      const call = await open.client.call('get', { path: join(dir, 'k') });
      await call.next();
      unlinkSync(join(dir, 'k', 'f'));
      symlinkSync(join(victim, 'secret'), join(dir, 'k', 'f'));
      call.stream.msg({ need: [{ i: 1 }], more: false });
      let got = '';
      for (let item = await call.next(); item; item = await call.next()) if (item.kind === 'data') got += item.bytes.toString();
      expect(got).not.toContain('TOP-SECRET');
      const r = (await call.result()) as { failed: { error: string }[] };
      expect(r.failed[0]!.error).toMatch(/ELOOP|not a regular/);
    } finally {
      await open.close();
    }
  });

  it('refuses a need for something that is not a file', async () => {
    mkdirSync(join(allowed, 'h'));
    symlinkSync(join(victim, 'secret'), join(allowed, 'h', 'l'));
    const call = await l.client.call('get', { path: join(allowed, 'h') });
    await call.next();
    call.stream.msg({ need: [{ i: 1 }], more: false });
    expect(await call.result().then(() => undefined, (e) => e.code)).toBe('VSSH_FRAME_MALFORMED');
  });
});

describe('the daemon itself', () => {
  it('serves only its own verbs (not inherited object properties)', async () => {
    for (const verb of ['constructor', 'tostring', 'hasownproperty']) {
      expect(await l.client.request(verb).then(() => 'served', (e) => e.code)).toBe('VSSH_UNKNOWN_VERB');
    }
  });

  it('drops a peer that sends a large PING or a REPLY', async () => {
    const header = signRequest(l.key, 'hello', {});
    for (const frame of [
      encodeFrame({ type: FrameType.PING, stream: 0, payload: Buffer.alloc(100_000) }),
      Buffer.concat([encodeFrame({ type: FrameType.REQUEST, stream: 1, payload: Buffer.from(JSON.stringify(signRequest(l.key, 'exec', { argv: ['sleep', '5'] }))) }), encodeFrame({ type: FrameType.REPLY, stream: 1, payload: Buffer.from('{}') })]),
    ]) {
      const sock = connect(l.address.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.on('error', () => {});
      const closed = new Promise((r) => sock.once('close', r));
      sock.write(frame);
      await closed;
    }
    expect(header.verb).toBe('hello');
    expect((await l.client.exec({ argv: ['true'] })).exitCode).toBe(0);
  });

  it('kills what is left of a process group at a timeout, also a child that ignores SIGTERM after its leader exited', async () => {
    const open = await loop();
    try {
      const marker = `765.${process.pid}${Date.now() % 1000}`;
      const r = await open.client.exec({ shell: `(trap '' TERM; exec sleep ${marker}) >/dev/null 2>&1 & sleep 30` }, { timeoutMs: 500 });
      expect(r.timedOut).toBe(true);
      expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 0, 3000)).toBe(true);
    } finally {
      await open.close();
    }
  });
});

describe('a client getting from a node', () => {
  it('clears setuid and setgid bits of what it receives, unless asked to keep them', async () => {
    const open = await loop();
    try {
      const src = join(dir, 'setid');
      mkdirSync(join(src, 'sub'), { recursive: true });
      writeFileSync(join(src, 'suid'), '#!/bin/sh\n');
      writeFileSync(join(src, 'sub', 'big'), Buffer.alloc(2 * 1024 * 1024 + 1)); // a big file takes the other write path
      chmodSync(join(src, 'suid'), 0o4755);
      chmodSync(join(src, 'sub', 'big'), 0o2755);
      chmodSync(join(src, 'sub'), 0o2775);
      const local = join(dir, 'setid-got');
      await open.client.get(src, local);
      expect([statSync(join(local, 'suid')).mode & 0o7777, statSync(join(local, 'sub', 'big')).mode & 0o7777, statSync(join(local, 'sub')).mode & 0o7777]).toEqual([0o755, 0o755, 0o775]);
      const kept = join(dir, 'setid-kept');
      await open.client.get(src, kept, { keepSetid: true });
      expect([statSync(join(kept, 'suid')).mode & 0o7777, statSync(join(kept, 'sub', 'big')).mode & 0o7777]).toEqual([0o4755, 0o2755]);
    } finally {
      await open.close();
    }
  });

  it('does not write through a symlink in its own destination', async () => {
    const open = await loop();
    try {
      const src = join(dir, 'gsrc');
      mkdirSync(join(src, 'ssh'), { recursive: true });
      writeFileSync(join(src, 'ssh', 'authorized_keys'), 'attacker key');
      const local = join(dir, 'gdest');
      mkdirSync(local);
      symlinkSync(victim, join(local, 'ssh'));
      const err = await open.client.get(src, local).catch((e) => e);
      expect(err.code).toBe('VSSH_POLICY'); // the client confines what the node sends to its destination
      expect(existsSync(join(victim, 'authorized_keys'))).toBe(false);
    } finally {
      await open.close();
    }
  });
});
