import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VaultError } from '../src/errors.js';
import { combineShares, splitKey } from '../src/shamir.js';
import { initVault, LocalVault } from '../src/store.js';
import { FAST_KDF, tmpHome } from './helpers.js';

const origin = { vaultId: 'a1b2c3d4'.repeat(4), keyId: '0badf00d' };
const key = new Uint8Array(32).map((_, i) => i * 7);

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => undefined, (e: unknown) => (e instanceof VaultError ? e.code : `not a VaultError: ${e}`));
}

describe('Shamir shares', () => {
  it('any threshold of the shares rebuilds the key, in any order', async () => {
    const shares = await splitKey(key, origin, 5, 3);
    expect(shares).toHaveLength(5);
    for (const s of shares) expect(s).toMatch(/^svs1-a1b2c3d4-0badf00d-3-[0-9a-f]{66}-[0-9a-f]{8}$/);
    for (const pick of [[0, 1, 2], [4, 2, 0], [1, 3, 4], [0, 1, 2, 3, 4]]) {
      expect([...(await combineShares(pick.map((i) => shares[i]!), origin))]).toEqual([...key]);
    }
  });

  it('refuses k-1 shares, a duplicate, a typo, a share of another vault or an older key', async () => {
    const shares = await splitKey(key, origin, 5, 3);
    expect(await codeOf(combineShares(shares.slice(0, 2), origin))).toBe('VAULT_NOT_ENOUGH_SHARES');
    expect(await codeOf(combineShares([shares[0]!, shares[0]!, shares[1]!], origin))).toBe('VAULT_BAD_SHARE');
    const typo = shares[2]!.replace(/-([0-9a-f])/, (_m, c: string) => `-${c === 'a' ? 'b' : 'a'}`);
    expect(await codeOf(combineShares([shares[0]!, shares[1]!, typo], origin))).toBe('VAULT_BAD_SHARE');
    expect(await codeOf(combineShares(['not a share', shares[0]!, shares[1]!], origin))).toBe('VAULT_BAD_SHARE');
    const foreign = await splitKey(key, { ...origin, vaultId: 'ffffffff'.repeat(4) }, 5, 3);
    expect(await codeOf(combineShares([shares[0]!, shares[1]!, foreign[2]!], origin))).toBe('VAULT_SHARE_MISMATCH');
    const older = await splitKey(key, { ...origin, keyId: '12345678' }, 5, 3);
    expect(await codeOf(combineShares(older.slice(0, 3), origin))).toBe('VAULT_SHARE_MISMATCH');
    expect(await codeOf(splitKey(key, origin, 2, 3))).toBe('VAULT_BAD_INPUT');
    expect(await codeOf(splitKey(key, origin, 5, 1))).toBe('VAULT_BAD_INPUT');
  });
});

describe('recovery of a vault', () => {
  let t: ReturnType<typeof tmpHome>;
  beforeEach(() => {
    t = tmpHome();
  });
  afterEach(() => t.cleanup());

  it('opens with 3 of 5 shares, resets the password, and refuses shares from before a rekey', async () => {
    const r = await initVault({ home: t.home, password: 'lost', kdf: FAST_KDF });
    expect(r.shares).toHaveLength(5);
    expect(r.threshold).toBe(3);
    const v = await LocalVault.unlock({ password: 'lost' }, { home: t.home });
    await v.set('db/password', 'hunter2');

    const w = await LocalVault.unlock({ shares: [r.shares[4]!, r.shares[1]!, r.shares[2]!] }, { home: t.home });
    expect(await w.getString('db/password')).toBe('hunter2');
    expect(await codeOf(LocalVault.unlock({ shares: r.shares.slice(0, 2) }, { home: t.home }))).toBe('VAULT_NOT_ENOUGH_SHARES');

    await w.changePassword('found');
    expect(await codeOf(LocalVault.unlock({ password: 'lost' }, { home: t.home }))).toBe('VAULT_BAD_PASSWORD');
    const x = await LocalVault.unlock({ password: 'found' }, { home: t.home });
    const { shares: fresh } = await x.rekey({ password: 'found' });
    expect(fresh).toHaveLength(5);
    expect(await codeOf(LocalVault.unlock({ shares: r.shares.slice(0, 3) }, { home: t.home }))).toBe('VAULT_SHARE_MISMATCH');
    expect(await (await LocalVault.unlock({ shares: fresh.slice(2) }, { home: t.home })).getString('db/password')).toBe('hunter2');
  });

  it('refuses shares of another vault', async () => {
    const other = tmpHome();
    try {
      const a = await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF });
      const b = await initVault({ home: other.home, password: 'pw', kdf: FAST_KDF });
      expect(await codeOf(LocalVault.unlock({ shares: b.shares.slice(0, 3) }, { home: t.home }))).toBe('VAULT_SHARE_MISMATCH');
      expect(await codeOf(LocalVault.unlock({ shares: [a.shares[0]!, a.shares[1]!, b.shares[2]!] }, { home: t.home }))).toBe('VAULT_SHARE_MISMATCH');
    } finally {
      other.cleanup();
    }
  });
});
