/** Chunk is a run of a file's lines (from 1, inclusive). */
export interface Chunk {
  start: number;
  end: number;
  text: string;
}

/** chunkLines cuts a text into chunks of `size` lines overlapping by `overlap`, skipping blank chunks; lines are cut at 1000 characters. */
export function chunkLines(body: string, size = 40, overlap = 10): Chunk[] {
  const lines = body.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const out: Chunk[] = [];
  const step = Math.max(1, size - overlap);
  for (let i = 0; i < lines.length; i += step) {
    const part = lines.slice(i, i + size);
    const text = part.map((l) => l.slice(0, 1000)).join('\n');
    if (text.trim()) out.push({ start: i + 1, end: i + part.length, text });
    if (i + size >= lines.length) break;
  }
  return out;
}
