/** DEFAULT_MAX_TEXT is how much text one tool result carries (25 kB), unless the server is told otherwise. */
export const DEFAULT_MAX_TEXT = 25_000;

/** capText cuts a text to `max` bytes (UTF-8, on a character boundary), saying whether it did. */
export function capText(text: string, max: number): { text: string; truncated: boolean } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return { text, truncated: false };
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), truncated: true };
}

/** page returns the part of `text` from byte `offset`, at most `max` bytes, and the offset of the rest (null at the end). */
export function page(text: string, offset: number, max: number): { text: string; nextOffset: number | null; totalBytes: number } {
  const buf = Buffer.from(text, 'utf8');
  let start = Math.min(Math.max(0, offset), buf.length);
  while (start > 0 && start < buf.length && (buf[start]! & 0xc0) === 0x80) start--;
  const { text: part } = capText(buf.subarray(start).toString('utf8'), max);
  const next = start + Buffer.byteLength(part);
  return { text: part, nextOffset: next < buf.length ? next : null, totalBytes: buf.length };
}
