import { describe, expect, it } from 'vitest';
import { DEFAULT_KDF, checkKdfParams, deriveKey } from '../../src/crypto/kdf.js';
import { VaultError } from '../../src/errors.js';

describe('Argon2id', () => {
  it('matches the RFC 9106 test vector (section 5.3)', async () => {
    const tag = await deriveKey(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2), { algorithm: 'argon2id', memoryKiB: 32, iterations: 3, parallelism: 4 }, {
      secret: new Uint8Array(8).fill(3),
      associatedData: new Uint8Array(12).fill(4),
    });
    expect(Buffer.from(tag).toString('hex')).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });

  it('defaults to m=64 MiB, t=3, p=4', () => {
    expect(DEFAULT_KDF).toEqual({ algorithm: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 4 });
  });

  it('depends on every parameter', async () => {
    const pw = new TextEncoder().encode('pw');
    const salt = new Uint8Array(32);
    const base = { algorithm: 'argon2id' as const, memoryKiB: 64, iterations: 1, parallelism: 1 };
    const keys = await Promise.all([
      deriveKey(pw, salt, base),
      deriveKey(pw, salt, { ...base, memoryKiB: 128 }),
      deriveKey(pw, salt, { ...base, iterations: 2 }),
      deriveKey(pw, salt, { ...base, parallelism: 2 }),
      deriveKey(pw, new Uint8Array(32).fill(1), base),
    ]);
    expect(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(5);
  });

  it('refuses parameters out of range with a clear error', () => {
    expect(() => checkKdfParams({ algorithm: 'argon2id', memoryKiB: 4, iterations: 1, parallelism: 1 })).toThrow(VaultError);
    expect(() => checkKdfParams({ algorithm: 'argon2id', memoryKiB: 64, iterations: 0, parallelism: 1 })).toThrow(/iterations 0 is not 1-10/);
    // bounded so that whoever edits a header cannot pick the cost of an unlock
    expect(() => checkKdfParams({ algorithm: 'argon2id', memoryKiB: 65536, iterations: 60, parallelism: 4 })).toThrow(/iterations 60/);
    expect(() => checkKdfParams({ algorithm: 'argon2id', memoryKiB: 4 * 1024 * 1024, iterations: 1, parallelism: 4 })).toThrow(/at most 2 GiB/);
    expect(() => checkKdfParams({ algorithm: 'argon2id', memoryKiB: 1024 * 1024, iterations: 3, parallelism: 4 })).toThrow(/memory x iterations/);
    expect(checkKdfParams({ algorithm: 'argon2id', memoryKiB: 1024 * 1024, iterations: 2, parallelism: 4 }).iterations).toBe(2);
  });
});
