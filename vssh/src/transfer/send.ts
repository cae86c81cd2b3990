import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { VsshError } from '../errors.js';
import { Channel, Stream } from '../protocol/conn.js';
import { Entry } from './manifest.js';

/** MANIFEST_BATCH is how many entries one MSG frame carries. */
export const MANIFEST_BATCH = 2000;
/** SMALL_FILE is the size under which a file is read in one go (and read ahead of its turn). */
export const SMALL_FILE = 1024 * 1024;
const CHUNK = 1024 * 1024 - 64;

/** Need is the receiver's request for one manifest entry: from `offset` (resume), or only compared by hash. */
export interface Need {
  i: number;
  offset?: number;
  sha256?: string;
}

/** SendStats is what a sender did. */
export interface SendStats {
  files: number;
  bytes: number;
  same: number;
  failed: { path: string; error: string }[];
}

/** sendManifest sends the manifest in batches. */
export function sendManifest(stream: Stream, entries: Entry[]): void {
  for (let i = 0; i < entries.length || i === 0; i += MANIFEST_BATCH) {
    stream.msg({ manifest: entries.slice(i, i + MANIFEST_BATCH), more: i + MANIFEST_BATCH < entries.length });
  }
}

/** readNeeds collects the receiver's need list (several MSG frames). */
export async function readNeeds(stream: Stream, count: number, onReply: (body: Record<string, unknown>) => unknown = (b) => { throw replyError(b); }): Promise<Need[]> {
  const needs: Need[] = [];
  for (;;) {
    const item = await stream.read();
    if (!item) throw new VsshError('VSSH_CONNECTION_LOST', 'the other side ended the transfer before saying what it needs');
    if (item.kind === 'reply') {
      onReply(item.body); // throws the node's (verified) error
      throw new VsshError('VSSH_FRAME_MALFORMED', 'the node answered before the transfer ended');
    }
    if (item.kind !== 'msg' || !Array.isArray(item.body.need)) continue;
    for (const n of item.body.need as Need[]) {
      if (!Number.isSafeInteger(n.i) || n.i < 0 || n.i >= count) throw new VsshError('VSSH_FRAME_MALFORMED', 'the need list names an entry that is not in the manifest');
      needs.push(n);
    }
    if (item.body.more !== true) return needs;
  }
}

/** replyError turns an error reply that arrived mid-transfer into the error it carries. */
export function replyError(body: Record<string, unknown>): VsshError {
  const e = body.error as { code?: string; message?: string } | undefined;
  return new VsshError((e?.code as VsshError['code']) ?? 'VSSH_INTERNAL', e?.message ?? 'the other side ended the transfer');
}

/**
 * sendFiles streams every needed file: `{file, offset, size}`, its bytes, then `{done, sha256}` (the
 * SHA-256 of the whole file, resumed prefix included); a small file, read whole first, carries its
 * `sha256` in the header instead. A file that changed size since the manifest, or
 * cannot be read, is reported with `{fail}` and the rest go on.
 */
export async function sendFiles(stream: Stream, root: string, entries: Entry[], needs: Need[], onBytes?: (n: number) => void): Promise<SendStats> {
  const stats: SendStats = { files: 0, bytes: 0, same: 0, failed: [] };
  const pathOf = (e: Entry): string => (e.path ? join(root, e.path) : root);
  for (const need of needs) {
    const e = entries[need.i]!;
    try {
      if (e.size <= SMALL_FILE && !need.offset) {
        // A small file is read in one synchronous call: for thousands of them, a promise per file
        // system call costs more than the reads themselves.
        const bytes = readFileSync(pathOf(e));
        if (bytes.length !== e.size) throw new Error(`changed size while being sent (${e.size} -> ${bytes.length} bytes)`);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (need.sha256 === sha256) {
          stream.msg({ same: need.i });
          stats.same++;
          continue;
        }
        // The hash is known before the bytes: it goes in the header, and no `done` follows.
        stream.msg({ file: need.i, offset: 0, size: bytes.length, sha256 });
        await stream.write(Channel.OUT, bytes);
        stats.bytes += bytes.length;
        onBytes?.(bytes.length);
      } else {
        await sendLarge(stream, pathOf(e), e, need, stats, onBytes);
      }
      stats.files++;
    } catch (err) {
      if (err instanceof VsshError) throw err; // the stream itself failed
      const error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      stats.failed.push({ path: e.path || '.', error });
      stream.msg({ fail: need.i, error });
    }
  }
  stream.end();
  return stats;
}

async function sendLarge(stream: Stream, file: string, e: Entry, need: Need, stats: SendStats, onBytes?: (n: number) => void): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size !== e.size) throw new Error(`changed size while being sent (${e.size} -> ${size} bytes)`);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    const offset = need.sha256 ? 0 : Math.min(need.offset ?? 0, size);
    // The resumed prefix is already on the other side: only hash it here.
    while (pos < offset) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, offset - pos), pos);
      if (bytesRead === 0) throw new Error('changed size while being sent');
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    if (need.sha256) {
      // The receiver has a file of the same size: compare hashes before sending anything.
      const whole = createHash('sha256');
      for (let p = 0; p < size; ) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, p);
        if (bytesRead === 0) throw new Error('changed size while being sent');
        whole.update(buf.subarray(0, bytesRead));
        p += bytesRead;
      }
      if (whole.digest('hex') === need.sha256) {
        stream.msg({ same: need.i });
        stats.same++;
        stats.files--;
        return;
      }
    }
    stream.msg({ file: need.i, offset, size: size - offset });
    while (pos < size) {
      // A fresh buffer per chunk: the socket may still hold the last one when write() resolves.
      const chunkBuf = Buffer.allocUnsafeSlow(Math.min(CHUNK, size - pos));
      const { bytesRead } = await fh.read(chunkBuf, 0, chunkBuf.length, pos);
      if (bytesRead === 0) throw new VsshError('VSSH_IO', `${file} shrank while being sent; the transfer of it is abandoned`);
      const chunk = chunkBuf.subarray(0, bytesRead);
      hash.update(chunk);
      await stream.write(Channel.OUT, chunk);
      pos += bytesRead;
      stats.bytes += bytesRead;
      onBytes?.(bytesRead);
    }
    stream.msg({ done: need.i, sha256: hash.digest('hex') });
  } finally {
    await fh.close();
  }
}
