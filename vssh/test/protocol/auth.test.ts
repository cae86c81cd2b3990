import { describe, expect, it } from 'vitest';
import { VsshError } from '../../src/errors.js';
import { codeOf } from '../helpers.js';
import { MAX_SKEW_MS, NonceWindow, canonicalJson, signReply, signRequest, verifyReply, verifyRequest } from '../../src/protocol/auth.js';
import { deriveNodeKey } from '../../src/keys.js';

const master = new Uint8Array(32).fill(9);
const key = deriveNodeKey(master, 'node-a');
const body = Buffer.from('the body');
const now = 1_800_000_000_000;

describe('request authentication', () => {
  it('accepts a signed request once, and refuses its replay', () => {
    const w = new NonceWindow(undefined, now - 3_600_000);
    const auth = signRequest(key, 'exec', { argv: ['df', '-h'], cwd: '/' }, body, now);
    expect(verifyRequest(key, auth, body, w, now + 10).verb).toBe('exec');
    expect(codeOf(() => verifyRequest(key, auth, body, w, now + 20))).toBe('VSSH_AUTH_REPLAY');
  });

  it('refuses a forged MAC, another node\'s key, altered args, verb or body', () => {
    const w = new NonceWindow(undefined, now - 3_600_000);
    const auth = signRequest(key, 'exec', { argv: ['ls'] }, body, now);
    const flip = (hex: string): string => (hex[0] === 'a' ? 'b' : 'a') + hex.slice(1);
    expect(codeOf(() => verifyRequest(key, { ...auth, mac: flip(auth.mac) }, body, w, now))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyRequest(deriveNodeKey(master, 'node-b'), auth, body, w, now))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyRequest(key, { ...auth, args: { argv: ['rm', '-rf', '/'] } }, body, w, now))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyRequest(key, { ...auth, verb: 'put' }, body, w, now))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyRequest(key, auth, Buffer.from('the bodY'), w, now))).toBe('VSSH_AUTH_BAD_MAC');
    // none of the refused ones used up the nonce: the genuine request still goes through
    expect(verifyRequest(key, auth, body, w, now).nonce).toBe(auth.nonce);
  });

  it('refuses stale and future timestamps, and says which', () => {
    const w = new NonceWindow(undefined, now - 3_600_000);
    const old = signRequest(key, 'stat', {}, undefined, now - MAX_SKEW_MS - 1);
    expect(codeOf(() => verifyRequest(key, old, new Uint8Array(0), w, now))).toBe('VSSH_AUTH_STALE');
    const future = signRequest(key, 'stat', {}, undefined, now + MAX_SKEW_MS + 1000);
    try {
      verifyRequest(key, future, new Uint8Array(0), w, now);
      expect.unreachable();
    } catch (err) {
      expect((err as VsshError).message).toMatch(/61 s ahead of this node's clock/);
    }
    expect(verifyRequest(key, signRequest(key, 'stat', {}, undefined, now - MAX_SKEW_MS + 1), new Uint8Array(0), w, now).verb).toBe('stat');
  });

  it('refuses a request signed before the window started (a daemon restarted since)', () => {
    const w = new NonceWindow(undefined, now);
    const before = signRequest(key, 'exec', { argv: ['true'] }, body, now - 1000);
    try {
      verifyRequest(key, before, body, w, now + 10);
      expect.unreachable();
    } catch (err) {
      expect((err as VsshError).code).toBe('VSSH_AUTH_STALE');
      expect((err as VsshError).message).toMatch(/signed 1\.0 s before this daemon started/);
    }
    expect(verifyRequest(key, signRequest(key, 'exec', { argv: ['true'] }, body, now), body, w, now + 10).verb).toBe('exec');
  });

  it('refuses malformed headers without throwing anything else', () => {
    const w = new NonceWindow(undefined, now - 3_600_000);
    const good = signRequest(key, 'exec', {}, body, now);
    for (const bad of [null, 'x', 42, {}, { ...good, verb: 'EXEC' }, { ...good, args: [] }, { ...good, ts: 'now' }, { ...good, nonce: 'short' }, { ...good, mac: 'zz' }, { ...good, bodyHash: 1 }]) {
      expect(codeOf(() => verifyRequest(key, bad, body, w, now))).toBe('VSSH_AUTH_MALFORMED');
    }
  });

  it('forgets nonces past the window, and MACs canonical JSON whatever the key order', () => {
    const w = new NonceWindow(1000);
    expect(w.admit('a'.repeat(32), 0)).toBe(true);
    expect(w.admit('a'.repeat(32), 500)).toBe(false);
    expect(w.admit('b'.repeat(32), 2000)).toBe(true);
    expect(w.size).toBe(1);
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    const auth = signRequest(key, 'exec', { b: 1, a: 2 }, body, now);
    expect(verifyRequest(key, { ...auth, args: { a: 2, b: 1 } }, body, new NonceWindow(undefined, now - 3_600_000), now).verb).toBe('exec');
  });
});

describe('reply authentication', () => {
  it('binds a reply to its request and to the node\'s key', () => {
    const reply = { exitCode: 0, signal: null };
    const mac = signReply(key, 'n'.repeat(32), reply);
    expect(() => verifyReply(key, 'n'.repeat(32), reply, mac)).not.toThrow();
    expect(codeOf(() => verifyReply(key, 'm'.repeat(32), reply, mac))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyReply(key, 'n'.repeat(32), { exitCode: 1, signal: null }, mac))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyReply(deriveNodeKey(master, 'node-b'), 'n'.repeat(32), reply, mac))).toBe('VSSH_AUTH_BAD_MAC');
    expect(codeOf(() => verifyReply(key, 'n'.repeat(32), reply, 'not hex'))).toBe('VSSH_AUTH_BAD_MAC');
  });

  it('gives every node its own key', () => {
    const keys = ['a', 'b', 'c'].map((id) => Buffer.from(deriveNodeKey(master, id)).toString('hex'));
    expect(new Set(keys).size).toBe(3);
    expect(Buffer.from(deriveNodeKey(master, 'a')).toString('hex')).toBe(keys[0]);
  });
});
