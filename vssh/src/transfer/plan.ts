import { basename, join, resolve } from 'node:path';
import { VsshError } from '../errors.js';
import { Filter } from './filter.js';
import { Entry, scanTree, sha256File } from './manifest.js';
import type { Need } from './send.js';

/**
 * TransferPlan is what a put sends: the manifest (root first, each folder before what it holds) and,
 * beside each entry, the local path it is read from.
 */
export interface TransferPlan {
  entries: Entry[];
  local: string[];
  /** the single source's base name (a file landing in an existing folder takes it); undefined for several */
  name: string | undefined;
  /** what could not be read, as `path: reason` */
  skipped: string[];
  /** how many paths the filter left out */
  excluded: number;
}

/**
 * planPut scans what a put sends. One source is the transfer itself: a folder's contents land in DEST
 * (like `rsync -a SRC/ DEST/`), a file lands at DEST or in it. Several sources land in DEST, a folder: each
 * as DEST/NAME, or, written with a trailing `/`, its contents straight into DEST (rsync's meaning); the root
 * is then a `bare` folder, whose mode and mtime the receiver leaves as they are. Two sources that would
 * land on the same path are refused.
 */
export async function planPut(sources: string[], filter: Filter = new Filter()): Promise<TransferPlan> {
  if (sources.length === 0) throw new VsshError('VSSH_BAD_INPUT', 'name at least one local file or folder to send');
  if (sources.length === 1) {
    const root = resolve(sources[0]!);
    const { entries, skipped, excluded } = await scanTree(root, { filter });
    return { entries, local: entries.map((e) => (e.path ? join(root, e.path) : root)), name: basename(root), skipped, excluded };
  }
  const entries: Entry[] = [{ path: '', type: 'dir', size: 0, mode: 0o755, mtimeMs: Math.round(Date.now()), bare: true }];
  const local: string[] = [''];
  const from = new Map<string, string>();
  const plan: TransferPlan = { entries, local, name: undefined, skipped: [], excluded: 0 };
  for (const source of sources) {
    const root = resolve(source);
    const contents = source.endsWith('/');
    const prefix = contents ? '' : basename(root);
    if (!contents && (prefix === '' || prefix === '.' || prefix === '..')) throw new VsshError('VSSH_BAD_INPUT', `"${source}" has no name to land under in the destination; write it as "${source}/" to send its contents`);
    const scan = await scanTree(root, { filter, prefix });
    if (contents && scan.entries[0]?.type !== 'dir') throw new VsshError('VSSH_BAD_INPUT', `"${source}" ends in "/" but is not a folder`);
    plan.skipped.push(...scan.skipped);
    plan.excluded += scan.excluded;
    for (const e of scan.entries) {
      if (e.path === '') continue; // a trailing-slash source's own folder: its contents go into the root
      const earlier = from.get(e.path);
      if (earlier !== undefined) {
        if (e.type === 'dir' && entries[entries.findIndex((x) => x.path === e.path)]?.type === 'dir') continue; // two folders merge
        throw new VsshError('VSSH_BAD_INPUT', `"${e.path}" would come from both ${earlier} and ${source}; send them apart, or rename one`);
      }
      from.set(e.path, source);
      entries.push(e);
      local.push(join(root, e.path.slice(prefix.length).replace(/^\//, '')));
    }
  }
  // each folder before what it holds: stable sort by path segments (a merged folder's files follow it)
  const order = entries.map((e, i) => i).sort((a, b) => comparePaths(entries[a]!.path, entries[b]!.path));
  return { ...plan, entries: order.map((i) => entries[i]!), local: order.map((i) => local[i]!) };
}

/** Planned is one file a dry run says would cross: its size, and the bytes that would be sent (less when resumed). */
export interface Planned {
  path: string;
  size: number;
  bytes: number;
}

/**
 * wouldSend reads the receiver's needs as a dry run: what would cross, and how many files are the same after
 * all (a need that carries the receiver's hash is compared here with the local file's, as the real send would).
 */
export async function wouldSend(plan: TransferPlan, needs: Need[]): Promise<{ send: Planned[]; same: number; failed: { path: string; error: string }[] }> {
  const out = { send: [] as Planned[], same: 0, failed: [] as { path: string; error: string }[] };
  for (const need of needs) {
    const e = plan.entries[need.i];
    if (!e || e.type !== 'file') throw new VsshError('VSSH_FRAME_MALFORMED', 'the need list names an entry that is not a file');
    if (need.sha256) {
      const mine = await sha256File(plan.local[need.i]!).catch((err: NodeJS.ErrnoException) => {
        out.failed.push({ path: e.path || '.', error: err.code ?? err.message });
        return undefined;
      });
      if (mine === undefined) continue;
      if (mine === need.sha256) {
        out.same++;
        continue;
      }
    }
    const offset = need.sha256 ? 0 : Math.min(need.offset ?? 0, e.size);
    out.send.push({ path: e.path || basename(plan.local[need.i]!), size: e.size, bytes: e.size - offset });
  }
  return out;
}

/** comparePaths orders manifest paths so that a folder comes right before what it holds. */
function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}
