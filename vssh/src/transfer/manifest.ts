import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { VsshError, ioError } from '../errors.js';
import type { Filter } from './filter.js';

/**
 * Entry is one thing in a transfer's manifest: its path relative to the root (posix, '' for the root
 * itself), its type, and what the receiver needs to decide whether it must cross.
 */
export interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  /** a symlink's target, as written (not followed) */
  target?: string;
  /** the root folder of a put of several sources: made when missing, but its mode and mtime are left as they are */
  bare?: boolean;
}

/** PART_SUFFIX marks the temp files a transfer writes before renaming them into place. */
export const PART_SUFFIX = '.vssh-part';

/** YIELD_EVERY is how many files a long synchronous walk handles before letting other work run. */
export const YIELD_EVERY = 500;

/** sha256File returns the hex SHA-256 of a file's contents, read in 1 MiB chunks. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** ScanOptions shape a scan: what to leave out, and the path the scanned root has in the manifest. */
export interface ScanOptions {
  filter?: Filter;
  /** the manifest path of `root` itself ('' by default: the transfer's root) */
  prefix?: string;
}

/**
 * scanTree lists `root` (a file, or a directory walked without following symlinks), sorted, root first,
 * leaving out what the filter excludes (an excluded folder is not entered); `excluded` counts those left out.
 */
export async function scanTree(root: string, opts: ScanOptions = {}): Promise<{ entries: Entry[]; skipped: string[]; excluded: number }> {
  const entries: Entry[] = [];
  const skipped: string[] = [];
  const filter = opts.filter;
  let excluded = 0;
  // Synchronous calls, yielding to the event loop every YIELD_EVERY entries: for a big tree a promise
  // per lstat costs ten times the lstat, and a daemon must still answer its other requests meanwhile.
  let sinceYield = 0;
  const visit = async (abs: string, rel: string): Promise<void> => {
    if (++sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
    let st;
    try {
      st = lstatSync(abs);
    } catch (err) {
      if (abs === root) throw ioError(err, 'reading', abs);
      skipped.push(`${rel}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      return;
    }
    if (filter && filter.excluded(rel, st.isDirectory())) {
      excluded++;
      return;
    }
    const base = { path: rel, size: 0, mode: st.mode & 0o7777, mtimeMs: Math.round(st.mtimeMs) };
    if (st.isFile()) entries.push({ ...base, type: 'file', size: st.size });
    else if (st.isSymbolicLink()) entries.push({ ...base, type: 'symlink', target: readlinkSync(abs) });
    else if (st.isDirectory()) {
      entries.push({ ...base, type: 'dir' });
      let names: string[];
      try {
        names = readdirSync(abs).sort();
      } catch (err) {
        skipped.push(`${rel || '.'}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
        return;
      }
      for (const name of names) {
        if (name.endsWith(PART_SUFFIX)) continue; // an unfinished transfer into this tree
        await visit(join(abs, name), rel ? `${rel}/${name}` : name);
      }
    } else skipped.push(`${rel || '.'}: not a file, folder or symlink`);
  };
  await visit(root, opts.prefix ?? '');
  return { entries, skipped, excluded };
}

/** MAX_ENTRIES is the most entries a manifest may hold. */
export const MAX_ENTRIES = 2_000_000;

/**
 * ManifestChecker admits a manifest's entries in order, refusing what could make the receiver write
 * somewhere other than where it checked: a path seen twice, an entry whose parent is not an earlier
 * folder of the same manifest (so no entry can turn a checked path into a symlink afterwards), a name
 * of vssh's own part files, and more than MAX_ENTRIES entries.
 */
export class ManifestChecker {
  readonly #dirs = new Set<string>();
  readonly #seen = new Set<string>();

  admit(raw: unknown): Entry {
    const e = checkEntry(raw);
    const bad = (why: string): VsshError => new VsshError('VSSH_BAD_INPUT', `a manifest entry is refused: ${why}`);
    if (this.#seen.size >= MAX_ENTRIES) throw bad(`a manifest holds at most ${MAX_ENTRIES} entries`);
    if (this.#seen.size === 0 && e.path !== '') throw bad('a manifest must start with its root');
    if (this.#seen.has(e.path)) throw bad(`"${e.path}" appears twice`);
    if (e.path !== '') {
      const slash = e.path.lastIndexOf('/');
      const parent = slash < 0 ? '' : e.path.slice(0, slash);
      if (!this.#dirs.has(parent)) throw bad(`"${e.path}" comes before its folder, or its folder is not a folder`);
      if (e.path.endsWith(PART_SUFFIX)) throw bad(`"${e.path}" is named like vssh's own part files`);
    }
    this.#seen.add(e.path);
    if (e.type === 'dir') this.#dirs.add(e.path);
    return e;
  }
}

/**
 * checkEntry refuses a manifest entry that could write outside the destination: absolute paths, `..`
 * segments, empty segments, NUL bytes, or fields of the wrong type.
 */
export function checkEntry(e: unknown): Entry {
  const bad = (why: string): VsshError => new VsshError('VSSH_BAD_INPUT', `a manifest entry is refused: ${why}`);
  if (typeof e !== 'object' || e === null) throw bad('not an object');
  const x = e as Record<string, unknown>;
  if (typeof x.path !== 'string' || x.path.includes('\0') || x.path.length > 4096) throw bad('bad path');
  if (x.path !== '' && (x.path.startsWith('/') || x.path.split('/').some((s) => s === '' || s === '.' || s === '..') || posix.normalize(x.path) !== x.path)) {
    throw bad(`path "${x.path}" must be relative and stay inside the destination`);
  }
  if (x.type !== 'file' && x.type !== 'dir' && x.type !== 'symlink') throw bad(`unknown type for "${x.path}"`);
  for (const k of ['size', 'mode', 'mtimeMs'] as const) {
    if (typeof x[k] !== 'number' || !Number.isSafeInteger(x[k]) || (x[k] as number) < 0) throw bad(`${k} of "${x.path}" must be a non-negative integer`);
  }
  if (x.type === 'symlink' && (typeof x.target !== 'string' || x.target.length === 0 || x.target.includes('\0'))) throw bad(`symlink "${x.path}" has no target`);
  if (x.bare !== undefined && (x.bare !== true || x.path !== '' || x.type !== 'dir')) throw bad('only the root folder may be bare');
  return { path: x.path, type: x.type, size: x.size as number, mode: (x.mode as number) & 0o7777, mtimeMs: x.mtimeMs as number, ...(x.type === 'symlink' ? { target: x.target as string } : {}), ...(x.bare ? { bare: true } : {}) };
}
