import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Masker } from '../src/mask.js';

async function run(secrets: string[], chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  const m = new Masker(secrets.map((s) => Buffer.from(s)));
  m.on('data', (c: Buffer) => out.push(c));
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks.map((c) => Buffer.from(c))).pipe(m).on('end', resolve).on('error', reject);
  });
  return Buffer.concat(out).toString();
}

describe('Masker', () => {
  it('masks every occurrence, also split across chunks at every point', async () => {
    const text = 'token=hunter22; again hunter22!';
    for (let cut = 0; cut <= text.length; cut++) {
      expect(await run(['hunter22'], [text.slice(0, cut), text.slice(cut)])).toBe('token=*****; again *****!');
    }
    expect(await run(['hunter22'], text.split(''))).toBe('token=*****; again *****!');
  });

  it('masks the longer of overlapping values whole, and leaves short or absent ones alone', async () => {
    expect(await run(['abc', 'abcdef'], ['xxabcdefyy abc'])).toBe('xx*****yy *****');
    expect(await run(['ab'], ['ab ab'])).toBe('ab ab');
    expect(await run(['secret'], ['secre', 't', ' and secr'])).toBe('***** and secr');
  });
});

describe('Masker, other forms of a value', () => {
  const secret = 'S3cr3t/Pa55+wörd?&x';
  const b = Buffer.from(secret);

  it('masks base64, base64url, hex and URL encoding of a value', async () => {
    const forms = [
      b.toString('base64'),
      b.toString('base64url'),
      b.toString('hex'),
      b.toString('hex').toUpperCase(),
      encodeURIComponent(secret),
      new URLSearchParams({ p: secret }).toString().slice(2),
    ];
    for (const f of forms) {
      const out = await run([secret], [`[${f}]`]);
      expect(out, f).not.toContain(f);
      expect(out, f).toMatch(/^\[\*\*\*\*\*.{0,3}\]$/); // at most the padding or the last letter is left
    }
  });

  it('masks base64 of a value inside longer base64, at each alignment', async () => {
    for (const prefix of ['', 'u', 'us', 'user:']) {
      const enc = Buffer.from(`${prefix}${secret}`).toString('base64');
      const out = await run([secret], [`Authorization: Basic ${enc}`]);
      // Left visible: at most the letters that also hold bits of the prefix or the padding.
      expect(out.replace('*****', '').length, `${prefix}: ${out}`).toBeLessThanOrEqual('Authorization: Basic '.length + Math.ceil((prefix.length * 8) / 6) + 4);
      expect(out).toContain('*****');
    }
  });

  it('masks each line of a multi-line value printed line by line', async () => {
    const pem = '-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0B\nAQEFAASCAUEwggE9AgEAAkEA\n-----END KEY-----';
    const out = await run([pem], [pem.split('\n').map((l) => `> ${l}\r\n`).join('')]);
    expect(out).toBe('> *****\r\n> *****\r\n> *****\r\n> *****\r\n');
  });

  it('masks an encoded form split across chunks at every point', async () => {
    const text = `x=${b.toString('hex')};`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(await run([secret], [text.slice(0, cut), text.slice(cut)])).toBe('x=*****;');
    }
  });

  it('lets a held-back prefix through after at most 100 ms of silence', async () => {
    const m = new Masker([Buffer.from('hunter22')]);
    const seen: string[] = [];
    m.on('data', (c: Buffer) => seen.push(c.toString()));
    m.write('Password: hunt');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.join('')).toBe('Password: ');
    await new Promise((r) => setTimeout(r, 130));
    expect(seen.join('')).toBe('Password: hunt');
    m.write('er22 and hunter22');
    m.end();
    await new Promise((r) => m.on('end', r));
    expect(seen.join('')).toBe('Password: hunter22 and *****');
  });
});
