import { createHash, Hash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { VsshError, ioError } from '../errors.js';
import { Stream } from '../protocol/conn.js';
import { Policy } from '../server/policy.js';
import { Entry, ManifestChecker, PART_SUFFIX, YIELD_EVERY, sha256File } from './manifest.js';
import { Need, SMALL_FILE, batches, capList, replyError } from './send.js';
import type { Filter } from './filter.js';

/** ReceiveOptions say where a transfer lands and how. */
export interface ReceiveOptions {
  /** where to write: the tree's root, or for a single file the file (or a folder to put it in) */
  dest: string;
  /** the source's base name, used when a single file lands in an existing folder */
  name?: string;
  /** delete what the destination has and the source does not (sync --delete) */
  delete?: boolean;
  /** compare by SHA-256 even when size and mtime match */
  checksum?: boolean;
  policy?: Policy;
  onBytes?: (n: number) => void;
  /** confine every entry to the target (a client receiving from a node) */
  confine?: boolean;
  /** clear setuid and setgid bits of what arrives (a client receiving from a node, unless asked to keep them) */
  stripSetid?: boolean;
  /** say what would change, changing nothing: no folder, file, symlink, mode or deletion is made */
  dryRun?: boolean;
  /** the sender's --exclude / --include rules: with `delete`, what they leave out is not deleted (as rsync does) */
  filter?: Filter;
  /** checks a reply that arrives mid-transfer and throws the error it carries (the client verifies its MAC) */
  onReply?: (body: Record<string, unknown>) => unknown;
}

/** ReceiveStats is what a receiver did. */
export interface ReceiveStats extends Record<string, unknown> {
  target: string;
  files: number;
  /** bytes that crossed (a resumed file counts only what was sent after its part file) */
  bytes: number;
  unchanged: number;
  deleted: number;
  failed: { path: string; error: string }[];
  /** with dryRun: what would be deleted (the first MAX_LISTED; `deleted` counts them all) */
  deletions?: string[];
  dryRun?: boolean;
}

/** MAX_LISTED is how many paths a dry run lists one by one. */
export const MAX_LISTED = 10_000;

/** WRITES_IN_FLIGHT is how many writes of one big file may be pending at once. */
const WRITES_IN_FLIGHT = 4;

/** partPath is where a file is written before it is renamed into place; its name ties it to the source's size and mtime, so a later transfer of the same file resumes it. */
export function partPath(target: string, e: Entry): string {
  return join(dirname(target), `.${basename(target)}.${e.size.toString(36)}-${e.mtimeMs.toString(36)}${PART_SUFFIX}`);
}

/**
 * receiveTree is the receiving side of a transfer (see PROTOCOL.md, "Transfers"): it reads the manifest,
 * answers with what it needs (skipping files whose size and mtime match, asking for a hash comparison
 * when only the size matches, resuming from a part file), then writes each file to a part file, checks
 * its SHA-256, sets mode and mtime and renames it into place. Nothing partial is ever at a destination.
 */
export async function receiveTree(stream: Stream, opts: ReceiveOptions): Promise<ReceiveStats> {
  const policy = opts.policy ?? Policy.open;
  const onReply = (body: Record<string, unknown>): never => {
    (opts.onReply ?? ((b) => { throw replyError(b); }))(body);
    throw new VsshError('VSSH_FRAME_MALFORMED', 'the other side answered before the transfer ended');
  };
  const entries = await readManifest(stream, onReply);
  if (opts.stripSetid) for (const e of entries) e.mode &= ~0o6000;
  const root = entries[0]!;
  let target = resolve(opts.dest);
  if (root.type !== 'dir') {
    const st = await stat(target).catch(() => undefined);
    if (st?.isDirectory() || opts.dest.endsWith('/')) target = join(target, opts.name ?? 'file');
  }
  target = await policy.checkPath(target, 'write');
  const dry = opts.dryRun === true;
  if (root.type !== 'dir' && !dry) await mkdir(dirname(target), { recursive: true }).catch((err) => Promise.reject(ioError(err, 'creating', dirname(target))));
  const stats: ReceiveStats = { target, files: 0, bytes: 0, unchanged: 0, deleted: 0, failed: [] };
  const pathOf = (e: Entry): string => (e.path ? join(target, e.path) : target);
  // Every entry must land under the target: checked per path (symlinks resolved) when the node's policy
  // limits paths, or when told to confine (a client getting from a node it does not trust to choose paths).
  let guard: Policy | undefined = policy.rules.allowPaths ? policy : undefined;

  // Plan: folders and symlinks now; for files, what must cross. Synchronous calls (a promise per lstat
  // costs ten times the lstat on a big tree), yielding to the event loop every YIELD_EVERY entries.
  const needs: Need[] = [];
  const unmade = new Set<string>(); // folders that could not be made: nothing goes inside them
  const sweeper = new PartSweeper();
  for (const [i, e] of entries.entries()) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((r) => setImmediate(r));
    const at = pathOf(e);
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
    if (e.path && unmade.has(parent)) {
      if (e.type === 'dir') unmade.add(e.path);
      stats.failed.push({ path: e.path, error: 'its folder could not be made' });
      continue;
    }
    if (guard && e.path) await guard.checkPath(at, 'write');
    try {
      if (e.type === 'dir') {
        if (!dry) mkdirSync(at, { recursive: true });
        if (lstatSync(at, { throwIfNoEntry: !dry })?.isDirectory() === false) throw new VsshError('VSSH_IO', `${at} is a symlink or a file where the source has a folder; it was left as it is`);
        if (e.path === '' && opts.confine) guard = new Policy({ allowPaths: [target] });
      } else if (e.type === 'symlink') {
        await policy.checkLinkTarget(at, e.target!);
        if (!dry) placeSymlink(at, e.target!);
      } else {
        policy.checkFileSize(e.size);
        const need = await planFile(at, e, i, opts.checksum === true, dry ? undefined : sweeper);
        if (need) needs.push(need);
        else stats.unchanged++;
      }
    } catch (err) {
      if (err instanceof VsshError && err.code === 'VSSH_POLICY') throw err;
      const e2 = ioError(err, 'preparing', at);
      if (e2.code === 'VSSH_DISK_FULL') throw e2;
      if (e.type === 'dir') unmade.add(e.path);
      stats.failed.push({ path: e.path || '.', error: e2.message });
    }
  }
  const askedHash = new Set(needs.filter((n) => n.sha256).map((n) => n.i));
  const recheck = (await guard?.folderCheck()) ?? (() => {});
  const needBatches = batches(needs);
  needBatches.forEach((b, k) => stream.msg({ need: b, more: k < needBatches.length - 1 }));
  if (dry) return dryRunEnd(stream, onReply, stats, opts.delete && root.type === 'dir' ? await deleteExtras(target, new Set(entries.map((e) => e.path)), opts.filter, true) : undefined);

  // Receive: a small file is held in memory and written in one go; a big one is written as it comes,
  // with a few writes in flight at their own offsets.
  let cur: { i: number; e: Entry; part: string; hash: Hash; fh?: FileHandle; chunks?: Buffer[]; writes?: PendingWrites; from: number; pos: number; end: number; sha256?: string } | undefined;
  /** complete checks the file in `cur` against `sha256` and puts it in place (or records why not). */
  const complete = async (sha256: string): Promise<void> => {
    const done = cur!;
    cur = undefined;
    const ok = done.hash.digest('hex') === sha256;
    const e = done.e;
    try {
      if (done.chunks) finishSmall(done.part, pathOf(e), e, ok, done.chunks, recheck);
      else await finishLarge(done.part, pathOf(e), e, ok, done.fh!, done.writes!, recheck);
      stats.files++;
      stats.bytes += done.end - done.from; // what crossed: a resumed file's prefix was already here
    } catch (err) {
      failWith(e.path, err);
    }
  };
  const failWith = (path: string, err: unknown): void => {
    const e = err instanceof VsshError ? err : ioError(err, 'writing', path);
    if (e.code === 'VSSH_DISK_FULL') throw e;
    stats.failed.push({ path: path || '.', error: e.message });
  };
  try {
    for (;;) {
      const item = await stream.read();
      if (!item || item.kind === 'end') break;
      if (item.kind === 'reply') onReply(item.body);
      if (item.kind === 'data') {
        if (!cur) throw new VsshError('VSSH_FRAME_MALFORMED', 'file bytes arrived outside a file');
        if (cur.pos + item.bytes.length > cur.end) throw new VsshError('VSSH_FRAME_MALFORMED', `more bytes arrived for ${cur.e.path || '.'} than announced`);
        cur.hash.update(item.bytes);
        if (cur.chunks) cur.chunks.push(item.bytes);
        else {
          await cur.writes!.add(item.bytes, cur.pos);
        }
        cur.pos += item.bytes.length;
        opts.onBytes?.(item.bytes.length);
        if (cur.pos === cur.end && cur.sha256) await complete(cur.sha256);
        continue;
      }
      const m = item.body;
      const e = typeof m.file === 'number' || typeof m.done === 'number' || typeof m.same === 'number' || typeof m.fail === 'number' ? entries[(m.file ?? m.done ?? m.same ?? m.fail) as number] : undefined;
      if (!e || e.type !== 'file') throw new VsshError('VSSH_FRAME_MALFORMED', 'a transfer message names no file of the manifest');
      if (typeof m.file === 'number') {
        const offset = Number(m.offset ?? 0);
        const size = Number(m.size);
        if (offset + size !== e.size) throw new VsshError('VSSH_FRAME_MALFORMED', `the bytes announced for ${e.path || '.'} do not add up to its size`);
        const part = partPath(pathOf(e), e);
        const hash = createHash('sha256');
        if (cur) throw new VsshError('VSSH_FRAME_MALFORMED', `a file started before ${cur.e.path || '.'} ended`);
        const sha256 = typeof m.sha256 === 'string' ? m.sha256 : undefined;
        if (e.size <= SMALL_FILE && offset === 0) cur = { i: m.file, e, part, hash, chunks: [], from: 0, pos: 0, end: e.size, sha256 };
        else if (sha256) throw new VsshError('VSSH_FRAME_MALFORMED', 'only a small file sent whole carries its hash in its header');
        else {
          recheck(dirname(part));
          const fh = await openPart(part, offset, hash);
          cur = { i: m.file, e, part, hash, fh, writes: new PendingWrites(fh, part), from: offset, pos: offset, end: e.size };
        }
        if (sha256 && e.size === 0) await complete(sha256);
      } else if (typeof m.done === 'number') {
        if (!cur || cur.i !== m.done || cur.pos !== cur.end || cur.sha256) throw new VsshError('VSSH_FRAME_MALFORMED', `${e.path || '.'} ended before all its bytes arrived`);
        await complete(String(m.sha256));
      } else if (typeof m.same === 'number') {
        if (!askedHash.delete(m.same)) throw new VsshError('VSSH_FRAME_MALFORMED', `"same" for ${e.path || '.'}, which was not compared by hash`);
        try {
          setMeta(pathOf(e), e);
          stats.unchanged++;
        } catch (err) {
          failWith(e.path, ioError(err, 'updating', pathOf(e)));
        }
      } else {
        if (cur?.i === m.fail) {
          // given up part-way: the part file stays for a later resume, or goes when it was small
          const gone = cur!;
          cur = undefined;
          await gone.writes?.settle().catch(() => {});
          await gone.fh?.close().catch(() => {});
        } else if (cur) throw new VsshError('VSSH_FRAME_MALFORMED', `a failure for another file arrived while ${cur.e.path || '.'} was open`);
        failWith(e.path, new VsshError('VSSH_IO', `the sender could not send it (${String(m.error).slice(0, 200)})`));
      }
    }
  } catch (err) {
    if (cur?.fh) {
      await cur.writes?.settle().catch(() => {});
      await cur.fh.close().catch(() => {});
      if ((err as VsshError).code === 'VSSH_DISK_FULL') await unlink(cur.part).catch(() => {});
    }
    throw err;
  }
  for (const e of [...entries].reverse()) {
    if (e.type === 'dir' && !e.bare) {
      try {
        setMeta(pathOf(e), e);
      } catch {
        /* a folder that vanished or cannot be changed keeps its mode */
      }
    }
  }
  if (opts.delete && root.type === 'dir') stats.deleted = (await deleteExtras(target, new Set(entries.map((e) => e.path)), opts.filter, false)).count;
  stats.failed = capList(stats.failed);
  return stats;
}

/** dryRunEnd finishes a dry run: the sender sends nothing more than END, and the reply says what would be deleted. */
async function dryRunEnd(stream: Stream, onReply: (body: Record<string, unknown>) => never, stats: ReceiveStats, deletions: { count: number; paths: string[] } | undefined): Promise<ReceiveStats> {
  for (;;) {
    const item = await stream.read();
    if (!item || item.kind === 'end') break;
    if (item.kind === 'reply') onReply(item.body);
    throw new VsshError('VSSH_FRAME_MALFORMED', 'a dry run carries no files');
  }
  return { ...stats, failed: capList(stats.failed), dryRun: true, deleted: deletions?.count ?? 0, deletions: deletions?.paths ?? [] };
}

async function readManifest(stream: Stream, onReply: (body: Record<string, unknown>) => never): Promise<Entry[]> {
  const entries: Entry[] = [];
  const checker = new ManifestChecker();
  for (;;) {
    const item = await stream.read();
    if (!item) throw new VsshError('VSSH_CONNECTION_LOST', 'the transfer ended before its manifest');
    if (item.kind === 'reply') onReply(item.body);
    if (item.kind !== 'msg' || !Array.isArray(item.body.manifest)) throw new VsshError('VSSH_FRAME_MALFORMED', 'a transfer must start with its manifest');
    for (const e of item.body.manifest) entries.push(checker.admit(e));
    if (item.body.more !== true) break;
  }
  if (entries.length === 0) throw new VsshError('VSSH_BAD_INPUT', 'the manifest is empty');
  return entries;
}

/** PART_NAME reads a part file's name: `.NAME.TAG.vssh-part`, where TAG is the source's size and mtime (base 36). */
const PART_NAME = /^\.(.+)\.[0-9a-z]+-[0-9a-z]+\.vssh-part$/;

/**
 * PartSweeper removes part files left by earlier transfers of a file that must cross now, but of another
 * version of its source (a broken transfer, then a changed source): only the current version's part can be
 * resumed, so the others are dead weight. Each folder is listed once, and only when one of its files crosses.
 */
class PartSweeper {
  readonly #parts = new Map<string, string[]>();

  sweep(at: string, keep: string): void {
    const dir = dirname(at);
    let parts = this.#parts.get(dir);
    if (!parts) {
      try {
        parts = readdirSync(dir).filter((n) => n.endsWith(PART_SUFFIX));
      } catch {
        parts = [];
      }
      this.#parts.set(dir, parts);
    }
    const name = basename(at);
    for (const p of parts) {
      if (p !== basename(keep) && PART_NAME.exec(p)?.[1] === name) rmSync(join(dir, p), { force: true }); // unlink: a symlink is removed, not followed
    }
  }
}

/** planFile says what a file needs: nothing (same size and mtime), a hash comparison (same size), a resume, or everything. */
async function planFile(at: string, e: Entry, i: number, checksum: boolean, sweeper: PartSweeper | undefined): Promise<Need | undefined> {
  const st = lstatSync(at, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new VsshError('VSSH_IO', `${at} is a folder; the source has a file there`);
  const sameSize = st?.isFile() && st.size === e.size;
  if (sameSize && !checksum && Math.round(st!.mtimeMs) === e.mtimeMs) return undefined;
  sweeper?.sweep(at, partPath(at, e));
  if (sameSize) return { i, sha256: await sha256File(at) };
  if (e.size <= SMALL_FILE) return { i }; // small files are sent whole, never resumed
  const part = statSync(partPath(at, e), { throwIfNoEntry: false });
  if (part && part.size > 0 && part.size < e.size) return { i, offset: part.size };
  return { i };
}

/**
 * createPart makes a fresh part file: whatever had its name goes (a symlink is removed, not followed), and
 * the file is created exclusively, so no one else's file, and nothing a symlink points at, is written.
 */
function createPart(part: string): number {
  try {
    return openSync(part, CREATE_FLAGS, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    unlinkSync(part); // a stale part file, or a symlink planted with its name: removed, not followed
    return openSync(part, CREATE_FLAGS, 0o600);
  }
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** openPart opens a part file for writing, feeding the hash with the prefix a resumed transfer keeps. */
async function openPart(part: string, offset: number, hash: Hash): Promise<FileHandle> {
  try {
    if (offset > 0) {
      const fh = await open(part, constants.O_RDWR | constants.O_NOFOLLOW);
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw new VsshError('VSSH_IO', `${part} is not a regular file`);
      }
      const buf = Buffer.allocUnsafe(1024 * 1024);
      for (let pos = 0; pos < offset; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, offset - pos), pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      await fh.truncate(offset);
      return fh;
    }
    return await open(part, CREATE_FLAGS, 0o600).catch(async (err) => {
      if (err.code !== 'EEXIST') throw err;
      await unlink(part);
      return open(part, CREATE_FLAGS, 0o600);
    });
  } catch (err) {
    throw ioError(err, 'creating', part);
  }
}

const damaged = (e: Entry, target: string): VsshError =>
  new VsshError('VSSH_INTEGRITY', `${e.path || basename(target)} arrived damaged (SHA-256 mismatch); it was not written. Send it again.`);

/**
 * PendingWrites keeps a few writes of one big file in flight at their own offsets. A failed write is
 * held (never left as an unhandled rejection) and thrown at the next add or settle.
 */
class PendingWrites {
  #pending: Promise<void>[] = [];
  #error: VsshError | undefined;

  constructor(private readonly fh: FileHandle, private readonly part: string) {}

  async add(bytes: Buffer, pos: number): Promise<void> {
    if (this.#error) throw this.#error;
    this.#pending.push(this.fh.write(bytes, 0, bytes.length, pos).then(() => undefined, (err) => void (this.#error ??= ioError(err, 'writing', this.part))));
    if (this.#pending.length >= WRITES_IN_FLIGHT) await this.#pending.shift();
    if (this.#error) throw this.#error;
  }

  async settle(): Promise<void> {
    await Promise.all(this.#pending.splice(0));
    if (this.#error) throw this.#error;
  }
}

/** finishSmall writes a whole small file to its part file, sets mode and mtime on the open file, and renames it into place. */
function finishSmall(part: string, target: string, e: Entry, ok: boolean, chunks: Buffer[], recheck: (dir: string) => void): void {
  if (!ok) throw damaged(e, target);
  let fd: number | undefined;
  try {
    recheck(dirname(part));
    fd = createPart(part);
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fchmodSync(fd, e.mode); // explicitly: the umask may have narrowed the mode at creation
    futimesSync(fd, e.mtimeMs / 1000, e.mtimeMs / 1000);
    closeSync(fd);
    fd = undefined;
    recheck(dirname(target));
    renameSync(part, target);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(part, { force: true });
    throw ioError(err, 'writing', target);
  }
}

/** finishLarge waits for a big file's writes, checks it, sets mode and mtime and renames it into place. */
async function finishLarge(part: string, target: string, e: Entry, ok: boolean, fh: FileHandle, writes: PendingWrites, recheck: (dir: string) => void): Promise<void> {
  try {
    await writes.settle();
    if (!ok) throw damaged(e, target);
    await fh.chmod(e.mode);
    await fh.utimes(e.mtimeMs / 1000, e.mtimeMs / 1000);
    await fh.close();
    recheck(dirname(target));
    await rename(part, target);
  } catch (err) {
    await writes.settle().catch(() => {});
    await fh.close().catch(() => {});
    await unlink(part).catch(() => {});
    throw ioError(err, 'writing', target);
  }
}

/** setMeta sets mode and mtime through a descriptor opened without following a symlink at `at`. */
function setMeta(at: string, e: Entry): void {
  const fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (e.type === 'dir' ? !st.isDirectory() : !st.isFile()) throw new VsshError('VSSH_IO', `${at} is no longer a ${e.type === 'dir' ? 'folder' : 'file'}`);
    fchmodSync(fd, e.mode);
    futimesSync(fd, e.mtimeMs / 1000, e.mtimeMs / 1000);
  } finally {
    closeSync(fd);
  }
}

function placeSymlink(at: string, to: string): void {
  try {
    if (readlinkSync(at) === to) return;
  } catch {
    /* missing, or not a symlink: replace it */
  }
  const tmp = `${at}.${process.pid}${PART_SUFFIX}`;
  rmSync(tmp, { force: true });
  symlinkSync(to, tmp);
  renameSync(tmp, at);
}

/**
 * deleteExtras removes what `root` holds and the manifest does not (without following symlinks), except what
 * the filter leaves out (protected, as with rsync). With `dry`, it only lists what it would remove.
 */
async function deleteExtras(root: string, keep: Set<string>, filter: Filter | undefined, dry: boolean): Promise<{ count: number; paths: string[] }> {
  const out = { count: 0, paths: [] as string[] };
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? join(root, rel) : root;
    let names;
    try {
      names = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      if (dry && (err as NodeJS.ErrnoException).code === 'ENOENT') return; // not made yet: nothing in it to delete
      throw err;
    }
    for (const d of names) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (!keep.has(r)) {
        if (filter?.excluded(r, d.isDirectory())) continue;
        if (!dry) await rm(join(abs, d.name), { recursive: true, force: true });
        else if (out.paths.length < MAX_LISTED) out.paths.push(d.isDirectory() ? `${r}/` : r);
        out.count++;
      } else if (d.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}
