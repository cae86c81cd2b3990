import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultError } from '../src/errors.js';
import { vaultPaths } from '../src/paths.js';
import { initVault, LocalVault } from '../src/store.js';
import { FAST_KDF } from './helpers.js';

// A real full disk: a 512 KiB tmpfs, filled up. Mounting needs root (CI runs as root).
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('a full disk', () => {
  let mnt: string;
  beforeAll(() => {
    mnt = mkdtempSync(join(tmpdir(), 'sv-full-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', mnt]);
    if (r.status !== 0) throw new Error(`mount tmpfs failed: ${r.stderr}`);
  });
  afterAll(() => {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  function fill(file: string): void {
    const fd = openSync(file, 'w');
    const block = Buffer.alloc(4096, 1);
    try {
      for (;;) writeSync(fd, block);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
  }

  it('refuses a write with VAULT_DISK_FULL, keeps the store whole, leaves no temp file, and works again once space is freed', async () => {
    await initVault({ home: mnt, password: 'pw', kdf: FAST_KDF, shares: null });
    const v = await LocalVault.unlock({ password: 'pw' }, { home: mnt });
    await v.set('keep', 'safe value');
    const paths = vaultPaths(mnt);
    const before = readFileSync(paths.store);
    const filler = join(mnt, 'filler');
    fill(filler);

    const err = await v.set('big', Buffer.alloc(200_000, 0x41)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe('VAULT_DISK_FULL');
    expect((err as VaultError).message).toMatch(/no space left.*free some space and retry/);
    expect(readFileSync(paths.store).equals(before)).toBe(true);
    expect(readdirSync(paths.dir).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);

    // A read must be audited; with no room for the audit line it is refused, not served unrecorded.
    const readErr = await v.get('keep').catch((e: unknown) => e);
    expect((readErr as VaultError).code).toBe('VAULT_DISK_FULL');

    unlinkSync(filler);
    await v.set('big', Buffer.alloc(200_000, 0x41));
    const w = await LocalVault.unlock({ password: 'pw' }, { home: mnt });
    expect(await w.getString('keep')).toBe('safe value');
    expect((await w.get('big')).length).toBe(200_000);
    expect((await w.verify()).secrets).toBe(2);
  });
});
