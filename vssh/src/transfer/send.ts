import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { VsshError } from '../errors.js';
import { Channel, Stream } from '../protocol/conn.js';
import { Entry } from './manifest.js';
import type { Policy } from '../server/policy.js';

/** BATCH_BYTES is about how much JSON one MSG frame of a list carries (well under the frame limit). */
export const BATCH_BYTES = 256 * 1024;
/** MAX_REPORTED is how many failures a reply lists one by one (the rest are counted). */
export const MAX_REPORTED = 100;

/** jsonSize bounds the JSON size of a manifest entry or a need: its strings plus room for the rest. */
const jsonSize = (item: { path?: string; target?: string }): number => 128 + 2 * ((item.path?.length ?? 0) + (item.target?.length ?? 0));

/** batches cuts a list into runs of at most about BATCH_BYTES of JSON each (at least one, possibly empty). */
export function batches<T extends object>(items: T[], maxBytes = BATCH_BYTES): T[][] {
  const out: T[][] = [[]];
  let size = 0;
  for (const item of items) {
    const n = jsonSize(item as { path?: string; target?: string });
    if (size + n > maxBytes && out.at(-1)!.length) {
      out.push([]);
      size = 0;
    }
    out.at(-1)!.push(item);
    size += n;
  }
  return out;
}

/** capList keeps the first MAX_REPORTED items of a report list and says how many more there were. */
export function capList<T extends { path: string; error: string }>(list: T[]): T[] {
  return list.length <= MAX_REPORTED ? list : [...list.slice(0, MAX_REPORTED), { path: '...', error: `and ${list.length - MAX_REPORTED} more` } as T];
}
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

/** underRoot maps manifest entries to paths under one local root (a tree scanned from `root`). */
export const underRoot = (root: string, entries: Entry[]) => (i: number): string => (entries[i]!.path ? join(root, entries[i]!.path) : root);

/** sendManifest sends the manifest in batches. */
export function sendManifest(stream: Stream, entries: Entry[]): void {
  const all = batches(entries);
  all.forEach((b, k) => stream.msg({ manifest: b, more: k < all.length - 1 }));
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
export async function sendFiles(stream: Stream, entries: Entry[], localOf: (i: number) => string, needs: Need[], onBytes?: (n: number) => void, guard?: Policy): Promise<SendStats> {
  const stats: SendStats = { files: 0, bytes: 0, same: 0, failed: [] };
  for (const need of needs) {
    const e = entries[need.i]!;
    const pathOf = (_: Entry): string => localOf(need.i);
    try {
      if (e.type !== 'file') throw new VsshError('VSSH_FRAME_MALFORMED', `the need list asks for ${e.path || '.'}, which is not a file`);
      if (guard) await guard.checkPath(pathOf(e), 'read'); // its folders may have changed since the scan
      if (e.size <= SMALL_FILE && !need.offset) {
        // A small file is read in synchronous calls: for thousands of them, a promise per file system
        // call costs more than the reads themselves.
        const bytes = readRegularFile(pathOf(e), e.size);
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
      if (err instanceof VsshError) throw err; // the stream itself failed, or a refusal
      const error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      stats.failed.push({ path: e.path || '.', error });
      stream.msg({ fail: need.i, error });
    }
  }
  stream.end();
  return stats;
}

/** READ_FLAGS open a file to send without following a symlink, and without blocking on a FIFO. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * readRegularFile reads a whole small file through one descriptor opened without following a symlink,
 * refusing anything but a regular file of the size the manifest gave (swapped or changed since the scan).
 */
function readRegularFile(file: string, size: number): Buffer {
  const fd = openSync(file, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('is no longer a regular file');
    if (st.size !== size) throw new Error(`changed size while being sent (${size} -> ${st.size} bytes)`);
    const buf = Buffer.allocUnsafe(size);
    for (let off = 0; off < size; ) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) throw new Error('changed size while being sent');
      off += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

async function sendLarge(stream: Stream, file: string, e: Entry, need: Need, stats: SendStats, onBytes?: (n: number) => void): Promise<void> {
  const fh = await open(file, READ_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('is no longer a regular file');
    const size = st.size;
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
      if (bytesRead === 0) throw new Error('shrank while being sent');
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
