import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../errors.js';
import { bool, optInt, str } from '../protocol/args.js';
import { canonicalJson } from '../protocol/auth.js';
import { sha256File } from '../transfer/manifest.js';
import type { RequestContext } from './daemon.js';

/** FileInfo describes one path on a node. */
export interface FileInfo {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
  target?: string;
  sha256?: string;
}

const LIST_BATCH_BYTES = 256 * 1024;

async function describe(abs: string, path: string, withHash: boolean): Promise<FileInfo> {
  const st = await lstat(abs);
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  const info: FileInfo = { path, type, size: st.size, mode: st.mode & 0o7777, mtimeMs: Math.round(st.mtimeMs) };
  if (type === 'symlink') info.target = await readlink(abs);
  if (type === 'file' && withHash) info.sha256 = await sha256File(abs);
  return info;
}

/** statHandler describes one path (with its SHA-256 on request). */
export async function statHandler(ctx: RequestContext): Promise<Record<string, unknown>> {
  const path = str(ctx.args, 'path');
  const real = await ctx.policy.checkPath(path, 'read');
  try {
    return { ...(await describe(real, path, bool(ctx.args, 'hash'))) };
  } catch (err) {
    throw ioError(err, 'reading', path);
  }
}

/**
 * listHandler lists a folder (recursively on request, without following symlinks), sending entries in
 * MSG batches; the signed reply carries their count and the SHA-256 of the batches, so the client knows
 * the listing is whole and the node's.
 */
export async function listHandler(ctx: RequestContext): Promise<Record<string, unknown>> {
  const path = str(ctx.args, 'path');
  const recursive = bool(ctx.args, 'recursive');
  const withHash = bool(ctx.args, 'hash');
  const limit = optInt(ctx.args, 'limit') ?? Number.MAX_SAFE_INTEGER;
  const real = await ctx.policy.checkPath(path, 'read');
  const hash = createHash('sha256');
  let batch: FileInfo[] = [];
  let batchBytes = 0;
  let count = 0;
  let truncated = false;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const text = canonicalJson(batch);
    hash.update(text);
    ctx.stream.msg({ entries: JSON.parse(text) });
    batch = [];
    batchBytes = 0;
    await ctx.stream.flushed();
  };
  const walk = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(abs)).sort();
    } catch (err) {
      if (rel === '') throw ioError(err, 'listing', path);
      return; // an unreadable subfolder is listed as a folder, without its contents
    }
    for (const name of names) {
      if (ctx.signal.aborted || count >= limit) return void (truncated = count >= limit);
      const childRel = rel ? `${rel}/${name}` : name;
      let info: FileInfo;
      try {
        info = await describe(join(abs, name), childRel, withHash);
      } catch {
        continue; // vanished while listing
      }
      batch.push(info);
      batchBytes += childRel.length + (info.target?.length ?? 0) + 120;
      count++;
      if (batchBytes >= LIST_BATCH_BYTES) await flush();
      if (recursive && info.type === 'dir') await walk(join(abs, name), childRel);
    }
  };
  const top = await lstat(real).catch((err) => Promise.reject(ioError(err, 'listing', path)));
  if (!top.isDirectory()) {
    batch.push(await describe(real, path, withHash));
    count = 1;
  } else await walk(real, '');
  await flush();
  return { path, count, truncated, sha256: hash.digest('hex') };
}
