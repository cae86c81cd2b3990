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
