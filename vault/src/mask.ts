import { Transform, TransformCallback } from 'node:stream';

/** MASK is what a secret value is replaced with in `sv exec` output. */
export const MASK = Buffer.from('*****');

/** MIN_MASKED_BYTES: values shorter than this are not masked (masking "a" would shred all output). */
export const MIN_MASKED_BYTES = 3;

/** MIN_ENCODED_BYTES: an encoded form shorter than this is not masked (three base64 letters turn up everywhere). */
const MIN_ENCODED_BYTES = 4;

/** HOLD_MS is the longest a held-back tail waits for the rest of a value before it is let through. */
export const HOLD_MS = 100;

/** base64Cores returns, for each of the 3 alignments a value can have inside longer base64, the letters that depend on the value alone. */
function base64Cores(value: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), value]).toString('base64');
    out.push(text.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + value.length)) / 6)));
  }
  return out;
}

/**
 * maskForms returns every form of `value` that Masker hides: the bytes; each line of a multi-line
 * value, without its indentation (a program may print it line by line, each with a prefix); base64 and
 * base64url at each alignment (also inside longer base64, e.g. `user:password` in an HTTP header); hex
 * in lower and upper case; and URL encoding (%XX, and + for spaces).
 */
export function maskForms(value: Uint8Array): Buffer[] {
  const raw = Buffer.from(value);
  if (raw.length < MIN_MASKED_BYTES) return [];
  const forms: Buffer[] = [raw];
  const add = (s: string): void => {
    if (s.length >= MIN_ENCODED_BYTES) forms.push(Buffer.from(s, 'latin1'));
  };
  const lines = raw.toString('latin1').split('\n');
  if (lines.length > 1) {
    for (const line of lines) {
      const t = line.replace(/^[ \t\r\v\f]+|[ \t\r\v\f]+$/g, '');
      if (t.length >= MIN_MASKED_BYTES) forms.push(Buffer.from(t, 'latin1'));
    }
  }
  for (const core of base64Cores(raw)) {
    add(core);
    add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const hex = raw.toString('hex');
  add(hex);
  add(hex.toUpperCase());
  const text = raw.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(raw)) {
    const url = encodeURIComponent(text);
    add(url);
    add(url.replace(/%20/g, '+'));
    add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  }
  return forms;
}

/**
 * Masker is a stream that replaces every occurrence of any form of a secret value (maskForms) with
 * `*****`, also when a value is split across chunks: it holds back only the longest tail that could
 * still start a value, and lets that through after HOLD_MS without more output, so a prompt is never stuck.
 */
export class Masker extends Transform {
  /** every form, by its first three bytes (all forms are at least 3 long), longest first so a value that contains another is masked whole */
  readonly #byKey = new Map<number, Buffer[]>();
  /** the first byte, and the first two, of every form: enough to hold back a tail of one or two bytes */
  readonly #first1 = new Set<number>();
  readonly #first2 = new Set<number>();
  #pending: Buffer = Buffer.alloc(0);
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(secrets: Iterable<Uint8Array>) {
    super();
    const uniq = new Map<string, Buffer>();
    for (const s of secrets) for (const f of maskForms(s)) uniq.set(f.toString('hex'), f);
    for (const f of [...uniq.values()].sort((a, b) => b.length - a.length)) {
      const key = (f[0]! << 16) | (f[1]! << 8) | f[2]!;
      const list = this.#byKey.get(key);
      if (list) list.push(f);
      else this.#byKey.set(key, [f]);
      this.#first1.add(f[0]!);
      this.#first2.add((f[0]! << 8) | f[1]!);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    clearTimeout(this.#timer);
    const data = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const { out, rest } = this.#scan(data, false);
    this.#pending = rest;
    if (out.length) this.push(out);
    if (rest.length) {
      this.#timer = setTimeout(() => this.#release(), HOLD_MS);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#release();
    this.#ended = true;
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    this.#ended = true;
    done(err);
  }

  /** #release lets the held-back tail through, masked where it holds a whole value. */
  #release(): void {
    clearTimeout(this.#timer);
    if (this.#ended || this.#pending.length === 0) return;
    const { out } = this.#scan(this.#pending, true);
    this.#pending = Buffer.alloc(0);
    if (out.length) this.push(out);
  }

  #scan(data: Buffer, final: boolean): { out: Buffer; rest: Buffer } {
    if (this.#byKey.size === 0) return { out: data, rest: Buffer.alloc(0) };
    const parts: Buffer[] = [];
    let start = 0;
    let i = 0;
    const hold = (): { out: Buffer; rest: Buffer } => {
      // data[i..] could be the start of a value (or of a longer one) that the next chunk completes: hold it back.
      parts.push(data.subarray(start, i));
      return { out: Buffer.concat(parts), rest: Buffer.from(data.subarray(i)) };
    };
    while (i < data.length) {
      const left = data.length - i;
      if (left < 3) {
        if (!final && (left === 1 ? this.#first1.has(data[i]!) : this.#first2.has((data[i]! << 8) | data[i + 1]!))) return hold();
        i++;
        continue;
      }
      const list = this.#byKey.get((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      if (!list) {
        i++;
        continue;
      }
      if (!final && list.some((s) => s.length > left && data.compare(s, 0, left, i, data.length) === 0)) return hold();
      const hit = list.find((s) => left >= s.length && data.compare(s, 0, s.length, i, i + s.length) === 0);
      if (hit) {
        parts.push(data.subarray(start, i), MASK);
        i += hit.length;
        start = i;
        continue;
      }
      i++;
    }
    parts.push(data.subarray(start));
    return { out: Buffer.concat(parts), rest: Buffer.alloc(0) };
  }
}
