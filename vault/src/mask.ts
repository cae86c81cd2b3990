import { Transform, TransformCallback } from 'node:stream';

/** MASK is what a secret value is replaced with in `sv exec` output. */
export const MASK = Buffer.from('*****');

/** MIN_MASKED_BYTES: values shorter than this are not masked (masking "a" would shred all output). */
export const MIN_MASKED_BYTES = 3;

/**
 * Masker is a stream that replaces every occurrence of any secret value with `*****`, also when a
 * value is split across chunks: it holds back only the longest tail that could still start a value.
 */
export class Masker extends Transform {
  readonly #secrets: Buffer[];
  readonly #firsts = new Set<number>();
  #pending: Buffer = Buffer.alloc(0);

  constructor(secrets: Iterable<Uint8Array>) {
    super();
    const uniq = new Map<string, Buffer>();
    for (const s of secrets) if (s.length >= MIN_MASKED_BYTES) uniq.set(Buffer.from(s).toString('hex'), Buffer.from(s));
    // Longest first, so a value that contains another is masked whole.
    this.#secrets = [...uniq.values()].sort((a, b) => b.length - a.length);
    for (const s of this.#secrets) this.#firsts.add(s[0]!);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = Buffer.concat([this.#pending, chunk]);
    const { out, rest } = this.#scan(data, false);
    this.#pending = rest;
    if (out.length) this.push(out);
    done();
  }

  override _flush(done: TransformCallback): void {
    const { out } = this.#scan(this.#pending, true);
    this.#pending = Buffer.alloc(0);
    if (out.length) this.push(out);
    done();
  }

  #scan(data: Buffer, final: boolean): { out: Buffer; rest: Buffer } {
    if (this.#secrets.length === 0) return { out: data, rest: Buffer.alloc(0) };
    const parts: Buffer[] = [];
    let start = 0;
    let i = 0;
    while (i < data.length) {
      if (!this.#firsts.has(data[i]!)) {
        i++;
        continue;
      }
      const hit = this.#secrets.find((s) => data.length - i >= s.length && data.compare(s, 0, s.length, i, i + s.length) === 0);
      if (hit) {
        parts.push(data.subarray(start, i), MASK);
        i += hit.length;
        start = i;
        continue;
      }
      if (!final && this.#secrets.some((s) => s.length > data.length - i && data.compare(s, 0, data.length - i, i, data.length) === 0)) {
        // data[i..] could be the start of a value that the next chunk completes: hold it back.
        parts.push(data.subarray(start, i));
        return { out: Buffer.concat(parts), rest: Buffer.from(data.subarray(i)) };
      }
      i++;
    }
    parts.push(data.subarray(start));
    return { out: Buffer.concat(parts), rest: Buffer.alloc(0) };
  }
}
