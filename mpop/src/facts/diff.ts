import { isVsshError, type FileInfo, type Pool, type VsshClient } from '@meshpop/vssh/client';
import { errorInfo, MpopError, type ErrorInfo } from '../errors.js';
import { readPackages } from './packages.js';
import { readPorts, type ListenSocket } from './ss.js';
import { readUnits } from './systemctl.js';
import { TOOL_TIMEOUT_MS, type Absent, type ToolOptions } from './tool.js';

/** DIFF_SUBJECTS are what diff compares by default; `files` joins them when a path is given. */
export const DIFF_SUBJECTS = ['kernel', 'packages', 'services', 'ports'] as const;
/** DiffSubject is one thing diff can compare. */
export type DiffSubject = (typeof DIFF_SUBJECTS)[number] | 'files';

/** Changed is one key present on both nodes with different values. */
export interface Changed<V> {
  key: string;
  a: V;
  b: V;
}

/**
 * SubjectDiff is one subject compared: `same`, `differ` (with what is only on A, only on B, and on both
 * but different), `absent` (the subject is not there on a node: no systemd, no dpkg/rpm; said per node), or
 * `failed` (a node could not be asked; its error per node).
 */
export interface SubjectDiff<V> {
  subject: DiffSubject;
  status: 'same' | 'differ' | 'absent' | 'failed';
  onlyA: { key: string; value: V }[];
  onlyB: { key: string; value: V }[];
  differ: Changed<V>[];
  /** how many keys are the same on both */
  same: number;
  /** why a side has no such subject, or failed: per node */
  reasons?: Record<string, string>;
  errors?: Record<string, ErrorInfo>;
  notes?: string[];
}

/** NodeDiff is two nodes compared, subject by subject. */
export interface NodeDiff {
  a: string;
  b: string;
  subjects: SubjectDiff<unknown>[];
  /** true when any subject differs (or is absent on only one side) */
  differs: boolean;
}

/** compareMaps diffs two keyed maps (`eq` decides when a shared key's values are the same). */
export function compareMaps<V>(subject: DiffSubject, a: Map<string, V>, b: Map<string, V>, eq: (x: V, y: V) => boolean = (x, y) => JSON.stringify(x) === JSON.stringify(y)): SubjectDiff<V> {
  const out: SubjectDiff<V> = { subject, status: 'same', onlyA: [], onlyB: [], differ: [], same: 0 };
  for (const [key, value] of a) {
    if (!b.has(key)) out.onlyA.push({ key, value });
    else if (!eq(value, b.get(key)!)) out.differ.push({ key, a: value, b: b.get(key)! });
    else out.same++;
  }
  for (const [key, value] of b) if (!a.has(key)) out.onlyB.push({ key, value });
  const byKey = (x: { key: string }, y: { key: string }): number => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
  out.onlyA.sort(byKey), out.onlyB.sort(byKey), out.differ.sort(byKey);
  if (out.onlyA.length || out.onlyB.length || out.differ.length) out.status = 'differ';
  return out;
}

/** portScope names where a socket listens in words that hold across nodes: every address, loopback, or one address of the host. */
export function portScope(address: string): string {
  const a = address.replace(/%.*$/, '');
  if (a === '*' || a === '0.0.0.0' || a === '::') return 'any';
  if (a.startsWith('127.') || a === '::1') return 'loopback';
  return 'host';
}

const portKey = (s: ListenSocket): string => `${s.proto}/${s.port} ${portScope(s.address)}`;

/** FileSide is a listed file as diff compares it. */
export type FileSide = Pick<FileInfo, 'type' | 'size' | 'mode'> & { sha256?: string; target?: string };

/** FILE_LIMIT is the most entries listed on each side. */
export const FILE_LIMIT = 200_000;

async function listing(client: VsshClient, path: string): Promise<{ map: Map<string, FileSide>; note?: string }> {
  try {
    const { entries, truncated } = await client.list(path, { recursive: true, hash: true, limit: FILE_LIMIT });
    const map = new Map(entries.map((e) => [e.path, { type: e.type, size: e.size, mode: e.mode, ...(e.sha256 ? { sha256: e.sha256 } : {}), ...(e.target !== undefined ? { target: e.target } : {}) }]));
    return { map, ...(truncated ? { note: `${client.target.name}: only the first ${FILE_LIMIT} entries of ${path} were compared` } : {}) };
  } catch (err) {
    if (isVsshError(err) && err.code === 'VSSH_NOT_FOUND') return { map: new Map(), note: `${path} does not exist on ${client.target.name}` };
    throw err;
  }
}

/** sameFile: same type, and same content (hash), link target and permission bits. */
const sameFile = (x: FileSide, y: FileSide): boolean => x.type === y.type && x.sha256 === y.sha256 && x.target === y.target && (x.type === 'dir' || x.size === y.size) && x.mode === y.mode;

type Side<V> = { map: Map<string, V>; note?: string } | Absent;

async function subject<V>(name: DiffSubject, a: VsshClient, b: VsshClient, read: (c: VsshClient) => Promise<Side<V>>, eq?: (x: V, y: V) => boolean): Promise<SubjectDiff<V>> {
  const [ra, rb] = await Promise.allSettled([read(a), read(b)]);
  const empty: SubjectDiff<V> = { subject: name, status: 'failed', onlyA: [], onlyB: [], differ: [], same: 0 };
  if (ra.status === 'rejected' || rb.status === 'rejected') {
    const errors: Record<string, ErrorInfo> = {};
    if (ra.status === 'rejected') errors[a.target.name] = errorInfo(ra.reason);
    if (rb.status === 'rejected') errors[b.target.name] = errorInfo(rb.reason);
    return { ...empty, errors };
  }
  const [va, vb] = [ra.value, rb.value];
  if ('present' in va || 'present' in vb) {
    const reasons: Record<string, string> = {};
    if ('present' in va) reasons[a.target.name] = va.reason;
    if ('present' in vb) reasons[b.target.name] = vb.reason;
    return { ...empty, status: 'absent', reasons };
  }
  const d = compareMaps(name, va.map, vb.map, eq);
  const notes = [va.note, vb.note].filter((n): n is string => !!n);
  return notes.length ? { ...d, notes } : d;
}

/** DiffOptions pick the subjects (default DIFF_SUBJECTS) and a folder to compare file by file. */
export interface DiffOptions {
  subjects?: DiffSubject[];
  /** compare this folder's listing (recursive, SHA-256 of each file) on both nodes */
  files?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * diffNodes compares two nodes: kernel, installed packages, systemd services, listening ports, and with
 * `files` a folder's tree. Both nodes must answer (MPOP_UNREACHABLE names the one that does not); a subject
 * missing or failing on one side is said in that subject, and the others are still compared.
 */
export async function diffNodes(pool: Pool, a: string, b: string, opts: DiffOptions = {}): Promise<NodeDiff> {
  if (a === b) throw new MpopError('MPOP_USAGE', `diff needs two different nodes (got ${a} twice)`);
  const clients = await Promise.all([a, b].map(async (n) => {
    const c = await pool.client(n);
    try {
      await c.ping();
    } catch (err) {
      throw new MpopError('MPOP_UNREACHABLE', `cannot compare: ${n} does not answer (${errorInfo(err).message})`, { cause: err });
    }
    return c;
  }));
  const [ca, cb] = clients as [VsshClient, VsshClient];
  // Without a timeout from the caller, a tool that hangs on a node (a wedged nvidia-smi, a stuck NFS) is cancelled at TOOL_TIMEOUT_MS.
  const limit = AbortSignal.timeout(opts.timeoutMs ? opts.timeoutMs + 5000 : TOOL_TIMEOUT_MS);
  const tool: ToolOptions = { signal: opts.signal ? AbortSignal.any([opts.signal, limit]) : limit, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const wanted = new Set<DiffSubject>(opts.subjects ?? [...DIFF_SUBJECTS, ...(opts.files ? ['files' as const] : [])]);
  if (wanted.has('files') && !opts.files) throw new MpopError('MPOP_USAGE', 'comparing files needs a folder: --files PATH');
  const jobs: Promise<SubjectDiff<unknown>>[] = [];
  if (wanted.has('kernel')) {
    jobs.push(subject('kernel', ca, cb, async (c) => {
      const i = await c.sysinfo();
      return { map: new Map([['kernel', i.kernel], ['arch', i.arch], ['platform', i.platform]]) };
    }) as Promise<SubjectDiff<unknown>>);
  }
  if (wanted.has('packages')) {
    jobs.push(subject('packages', ca, cb, async (c) => {
      const p = await readPackages(c, tool);
      return p.present ? { map: new Map(p.packages.map((x) => [`${x.name}:${x.arch}`, x.version])) } : p;
    }) as Promise<SubjectDiff<unknown>>);
  }
  if (wanted.has('services')) {
    jobs.push(subject('services', ca, cb, async (c) => {
      const u = await readUnits(c, { all: true }, tool);
      return u.present ? { map: new Map(u.units.filter((x) => x.load !== 'not-found').map((x) => [x.unit, `${x.active}/${x.sub}`])) } : u;
    }) as Promise<SubjectDiff<unknown>>);
  }
  if (wanted.has('ports')) {
    jobs.push(subject('ports', ca, cb, async (c) => {
      const p = await readPorts(c, tool);
      if (!p.present) return p;
      const map = new Map<string, string>();
      for (const s of p.sockets) {
        const names = [...new Set(s.processes.map((x) => x.name))].sort().join(',');
        const prev = map.get(portKey(s));
        map.set(portKey(s), prev && prev !== names ? [...new Set([...prev.split(','), ...names.split(',')])].filter(Boolean).sort().join(',') : names);
      }
      return { map, ...(p.note ? { note: p.note } : {}) };
    }) as Promise<SubjectDiff<unknown>>);
  }
  if (wanted.has('files')) jobs.push(subject('files', ca, cb, (c) => listing(c, opts.files!), sameFile) as Promise<SubjectDiff<unknown>>);
  const subjects = await Promise.all(jobs);
  const differs = subjects.some((s) => s.status === 'differ' || (s.status === 'absent' && Object.keys(s.reasons ?? {}).length === 1));
  return { a, b, subjects, differs };
}
