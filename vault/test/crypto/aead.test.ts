import { gcm } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { open, seal } from '../../src/crypto/aead.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Known answers from the GCM specification's test cases for AES-256 (McGrew & Viega, as published by NIST).
const cases = [
  { n: 13, key: '00'.repeat(32), iv: '00'.repeat(12), pt: '', aad: '', ct: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  { n: 14, key: '00'.repeat(32), iv: '00'.repeat(12), pt: '00'.repeat(16), aad: '', ct: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    n: 16,
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

describe('AES-256-GCM', () => {
  for (const c of cases) {
    it(`matches the known answer of test case ${c.n}`, () => {
      const out = gcm(hex(c.key), hex(c.iv), c.aad ? hex(c.aad) : undefined).encrypt(hex(c.pt));
      expect(toHex(out)).toBe(c.ct + c.tag);
      expect(toHex(open(hex(c.key), hex(c.iv), out, c.aad ? hex(c.aad) : undefined)!)).toBe(c.pt);
    });
  }

  it('refuses a changed byte, a wrong key and wrong associated data', () => {
    const key = new Uint8Array(32).fill(7);
    const aad = new TextEncoder().encode('name\0' + '1');
    const s = seal(key, new TextEncoder().encode('secret value'), aad);
    expect(new TextDecoder().decode(open(key, s.nonce, s.ciphertext, aad)!)).toBe('secret value');
    for (let i = 0; i < s.ciphertext.length; i++) {
      const bad = Uint8Array.from(s.ciphertext);
      bad[i]! ^= 0x01;
      expect(open(key, s.nonce, bad, aad)).toBeUndefined();
    }
    expect(open(new Uint8Array(32).fill(8), s.nonce, s.ciphertext, aad)).toBeUndefined();
    expect(open(key, s.nonce, s.ciphertext, new TextEncoder().encode('name\0' + '2'))).toBeUndefined();
    expect(open(key, s.nonce, s.ciphertext.subarray(0, 10), aad)).toBeUndefined();
  });

  it('uses a fresh nonce for every seal', () => {
    const key = new Uint8Array(32);
    const nonces = new Set(Array.from({ length: 200 }, () => toHex(seal(key, new Uint8Array(1)).nonce)));
    expect(nonces.size).toBe(200);
  });
});
