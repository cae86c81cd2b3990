import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { MpopError } from '../../errors.js';
import { fanout, type FanoutResult, type Outcome, type TaskContext } from '../../fanout/run.js';
import { defineTool, READ, type ToolContext, type ToolDef } from '../tool.js';
import { targetField } from './exec.js';
import { nodeResult } from './fleet-tool.js';

/** NodeError is one node's failure re-thrown by a single-node tool, keeping the node's own code (VSSH_NOT_FOUND...). */
export class NodeError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'NodeError';
  }
}

/** nodeField is the input of a tool that acts on exactly one node. */
export const nodeField = z.string().min(1).describe('one node name (mpop_servers lists them)');
const pathField = z.string().min(1).refine((p) => p.startsWith('/'), 'an absolute path, starting with /').describe('an absolute path on the node');

/** onNode resolves `node` to exactly one node and runs `task` on it through fanout; the node's failure is thrown with its code. */
export async function onNode<T>(ctx: ToolContext, node: string, task: (t: TaskContext) => Promise<T>, timeoutMs?: number): Promise<T> {
  const names = (await ctx.inventory()).resolve(node);
  if (names.length !== 1) throw new MpopError('MPOP_USAGE', `"${node}" names ${names.length} nodes (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}); this tool takes one node`);
  const run = await fanout(ctx.pool, names, task, { signal: ctx.signal, ...(timeoutMs ? { timeoutMs } : {}) });
  const r = run.results[0]!;
  if (r.outcome === 'ok') return r.value as T;
  throw new NodeError(r.error?.code ?? 'MPOP_REMOTE', `${r.node} ${r.outcome}${r.error ? `: ${r.error.message}` : ''}`);
}

/** withTemp runs `fn` in a fresh private temp folder on the controller and removes it afterwards. */
export async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mpop-mcp-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** fanoutData is the per-node part of a fan-out tool's result, and a text line per node. */
export function fanoutData<T>(run: FanoutResult<T>, line: (v: T) => string): { nodes: { node: string; outcome: Outcome; value?: T; error?: { code: string; message: string }; durationMs: number }[]; counts: Record<string, number>; durationMs: number; text: string } {
  return {
    nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, ...(r.value !== undefined ? { value: r.value } : {}), ...(r.error ? { error: r.error } : {}), durationMs: Math.round(r.durationMs) })),
    counts: run.counts,
    durationMs: Math.round(run.durationMs),
    text: run.results.map((r) => `${r.node}: ${r.outcome === 'ok' && r.value !== undefined ? line(r.value) : `${r.outcome}${r.error ? `: ${r.error.message}` : ''}`}`).join('\n'),
  };
}

/** looksBinary tells text from binary: a NUL byte, or bytes that are not UTF-8. */
export function looksBinary(b: Buffer): boolean {
  if (b.subarray(0, 8192).includes(0)) return true;
  return !Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** parseRange reads "10-40", "10-" or "7" (1-based, inclusive). */
export function parseRange(text: string): { from: number; to: number | null } {
  const m = /^\s*(\d+)\s*(?:(-)\s*(\d*))?\s*$/.exec(text);
  if (!m || Number(m[1]) < 1 || (m[3] && Number(m[3]) < Number(m[1]))) throw new MpopError('MPOP_USAGE', `lines "${text}" is not a range: give "10-40", "10-" (to the end) or "7"`);
  return { from: Number(m[1]), to: m[2] ? (m[3] ? Number(m[3]) : null) : Number(m[1]) };
}

const fileInfo = z.object({ path: z.string(), type: z.enum(['file', 'dir', 'symlink', 'other']), size: z.number(), mode: z.string(), mtime: z.string(), target: z.string().optional(), sha256: z.string().optional() });
type FileInfoOut = z.infer<typeof fileInfo>;
const describeInfo = (f: { path: string; type: FileInfoOut['type']; size: number; mode: number; mtimeMs: number; target?: string; sha256?: string }): FileInfoOut => ({ path: f.path, type: f.type, size: f.size, mode: f.mode.toString(8).padStart(4, '0'), mtime: new Date(f.mtimeMs).toISOString(), ...(f.target !== undefined ? { target: f.target } : {}), ...(f.sha256 ? { sha256: f.sha256 } : {}) });

const readFileTool = defineTool({
  name: 'vssh_read_file',
  title: 'Read a file on a node',
  description: 'Reads a text file from one node over vssh (stat, then a verified copy; no shell). Give lines ("10-40", "100-") for a part of it. A binary file, or one larger than maxBytes, is not returned: the result says so with its size (read a range of a big log with mpop_exec and tail/sed instead).',
  toolset: 'files',
  input: {
    node: nodeField,
    path: pathField,
    lines: z.string().optional().describe('a 1-based inclusive line range: "10-40", "100-" (to the end) or "7"'),
    maxBytes: z.number().int().positive().max(16 * 1024 * 1024).optional().describe('refuse files larger than this (default 1 MiB)'),
  },
  output: { node: z.string(), file: fileInfo, content: z.string().nullable(), lines: z.object({ from: z.number(), to: z.number(), total: z.number() }).nullable(), reason: z.string().optional() },
  annotations: READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    const range = a.lines ? parseRange(a.lines) : null;
    const max = a.maxBytes ?? 1024 * 1024;
    return onNode(ctx, a.node, async ({ node, client }) => {
      const st = describeInfo(await client.stat(a.path));
      const refuse = (reason: string) => ({ data: { node, file: st, content: null, lines: null, reason }, text: reason, isError: true });
      if (st.type !== 'file') return refuse(`${a.path} on ${node} is a ${st.type}, not a file${st.type === 'dir' ? ' (vssh_list_files lists it)' : ''}`);
      if (st.size > max) return refuse(`${a.path} on ${node} is ${st.size} bytes, over the limit of ${max} (raise maxBytes, or read part of it with mpop_exec and tail -n / sed -n)`);
      const bytes = await withTemp(async (dir) => {
        await client.get(a.path, dir);
        return readFile(join(dir, posix.basename(a.path)));
      });
      if (looksBinary(bytes)) return refuse(`${a.path} on ${node} is binary (${bytes.length} bytes); vssh_get copies it to the controller, vssh_stat gives its SHA-256`);
      const all = bytes.toString('utf8').split('\n');
      if (all.length > 1 && all.at(-1) === '') all.pop();
      const from = range?.from ?? 1;
      const to = Math.min(range?.to ?? all.length, all.length);
      const content = all.slice(from - 1, to).join('\n');
      return { data: { node, file: st, content, lines: range ? { from, to, total: all.length } : { from: 1, to: all.length, total: all.length } }, text: range ? `${a.path} on ${node}, lines ${from}-${to} of ${all.length}:\n${content}` : content };
    });
  },
});

const writeFileTool = defineTool({
  name: 'vssh_write_file',
  title: 'Write a file on a node',
  description: 'Writes content to a file on one node: a temp file on the controller is copied with vssh put, which lands it atomically (temp file, SHA-256 check, rename). An existing file is replaced: destructive, asks for confirmation.',
  toolset: 'files',
  input: {
    node: nodeField,
    path: pathField,
    content: z.string().max(16 * 1024 * 1024).describe('the whole new content of the file (UTF-8)'),
    mode: z.string().regex(/^0?[0-7]{3,4}$/).optional().describe('the file mode in octal, e.g. "0644" (default 0644)'),
  },
  output: { node: z.string(), path: z.string(), bytes: z.number(), mode: z.string(), written: z.boolean() },
  annotations: { readOnly: false, destructive: true, idempotent: true, openWorld: true },
  targets: (a) => a.node,
  confirm: (a) => `Write ${Buffer.byteLength(a.content)} bytes to ${a.path} on ${a.node} (replacing it if it exists)?`,
  async run(a, ctx) {
    const mode = parseInt(a.mode ?? '0644', 8);
    return onNode(ctx, a.node, ({ node, client }) =>
      withTemp(async (dir) => {
        const local = join(dir, posix.basename(a.path));
        await writeFile(local, a.content);
        await chmod(local, mode);
        const r = await client.put(local, a.path);
        const data = { node, path: a.path, bytes: Buffer.byteLength(a.content), mode: mode.toString(8).padStart(4, '0'), written: r.sent.files > 0 };
        return { data, text: `${data.written ? 'wrote' : 'unchanged (same content)'}: ${a.path} on ${node}, ${data.bytes} bytes, mode ${data.mode}` };
      }),
    );
  },
});

const listFiles = defineTool({
  name: 'vssh_list_files',
  title: 'List files on a node',
  description: 'Lists a folder on one node (type, size, mode, mtime of each entry), optionally recursively; at most limit entries, with truncated set when there are more.',
  toolset: 'files',
  input: {
    node: nodeField,
    path: pathField,
    recursive: z.boolean().optional().describe('walk the whole tree below path'),
    limit: z.number().int().positive().max(100_000).optional().describe('at most this many entries (default 1000)'),
  },
  output: { node: z.string(), path: z.string(), entries: z.array(fileInfo), truncated: z.boolean() },
  annotations: READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    return onNode(ctx, a.node, async ({ node, client }) => {
      const r = await client.list(a.path, { recursive: a.recursive === true, limit: a.limit ?? 1000 });
      const entries = r.entries.map(describeInfo);
      return { data: { node, path: a.path, entries, truncated: r.truncated }, text: entries.map((e) => `${e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${e.mode} ${String(e.size).padStart(10)} ${e.mtime.slice(0, 19)} ${e.path}${e.target ? ` -> ${e.target}` : ''}`).join('\n') + (r.truncated ? `\n[more than ${entries.length} entries: raise limit]` : '') || `${a.path} on ${node} is empty` };
    });
  },
});

const statTool = defineTool({
  name: 'vssh_stat',
  title: 'Describe a path on a node',
  description: 'Type, size, mode, mtime and symlink target of one path on one node; with hash, its SHA-256 (files).',
  toolset: 'files',
  input: { node: nodeField, path: pathField, hash: z.boolean().optional().describe('also compute the SHA-256 of a file') },
  output: { node: z.string(), file: fileInfo },
  annotations: READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    return onNode(ctx, a.node, async ({ node, client }) => {
      const f = describeInfo(await client.stat(a.path, { hash: a.hash === true }));
      return { data: { node, file: f }, text: `${node}:${f.path} ${f.type} ${f.size} bytes mode ${f.mode} mtime ${f.mtime}${f.target ? ` -> ${f.target}` : ''}${f.sha256 ? ` sha256 ${f.sha256}` : ''}` };
    });
  },
});

const putValue = z.object({ files: z.number(), bytes: z.number(), unchanged: z.number(), deleted: z.number(), dryRun: z.object({ send: z.array(z.string()), bytes: z.number(), delete: z.array(z.string()) }).optional() });
const localField = z.string().min(1).describe('a path on the controller (this machine): a file or a folder');

/** transferTool makes vssh_put or vssh_sync: controller path -> node path over a target, through fanout. */
function transferTool(name: 'vssh_put' | 'vssh_sync') {
  const sync = name === 'vssh_sync';
  return defineTool({
    name,
    title: sync ? 'Mirror a folder to nodes' : 'Copy files to nodes',
    description: sync
      ? 'Mirrors a controller folder into a folder on every node of the target: only changed files cross, and with delete (the default here) files the source no longer has are removed there. dryRun says what would cross and what would go, changing nothing. Destructive.'
      : 'Copies a controller file or folder to a path on every node of the target over vssh; files with the same content do not cross, each file lands atomically. delete removes files at the destination that the source lacks. dryRun says what would cross. Destructive (it overwrites).',
    toolset: 'files',
    input: {
      target: targetField,
      local: localField,
      dest: pathField.describe('the destination path on each node'),
      delete: z.boolean().optional().describe(sync ? 'remove files the source does not have (default true)' : 'remove files at the destination that the source does not have'),
      dryRun: z.boolean().optional().describe('only report what would be sent and deleted'),
      timeoutSeconds: z.number().positive().max(86_400).optional().describe('per node: give up after this many seconds'),
    },
    output: { target: z.string(), nodes: z.array(nodeResult(putValue)), counts: z.record(z.string(), z.number()), durationMs: z.number() },
    annotations: { readOnly: false, destructive: true, idempotent: true, openWorld: true },
    long: true,
    targets: (a) => a.target,
    confirm: (a) => `${a.dryRun ? 'Dry run: ' : ''}${sync ? 'Mirror' : 'Copy'} ${a.local} to ${a.dest} on ${a.target}${(a.delete ?? sync) ? ', deleting extra files there' : ''}?`,
    async run(a, ctx) {
      const nodes = (await ctx.inventory()).resolve(a.target);
      const run = await fanout(
        ctx.pool,
        nodes,
        async ({ client }) => {
          const r = await client.put(a.local, a.dest, { delete: a.delete ?? sync, dryRun: a.dryRun === true });
          const failed = [...r.sent.failed, ...r.received.failed];
          if (failed.length) throw new MpopError('MPOP_REMOTE', `${failed.length} files failed: ${failed.slice(0, 3).map((f) => `${f.path}: ${f.error}`).join('; ')}`);
          return { files: r.sent.files, bytes: r.sent.bytes, unchanged: r.dryRun?.unchanged ?? r.received.unchanged, deleted: r.dryRun ? 0 : r.received.deleted, ...(r.dryRun ? { dryRun: { send: r.dryRun.send.map((p) => p.path), bytes: r.dryRun.bytes, delete: r.dryRun.delete } } : {}) };
        },
        { signal: ctx.signal, ...(a.timeoutSeconds ? { timeoutMs: a.timeoutSeconds * 1000 } : {}), onProgress: (p) => ctx.progress({ done: p.done, total: p.total, message: `${p.done}/${p.total} nodes` }) },
      );
      const d = fanoutData(run, (v) => (v.dryRun ? `would send ${v.dryRun.send.length} files (${v.dryRun.bytes} bytes), delete ${v.dryRun.delete.length}, ${v.unchanged} unchanged` : `sent ${v.files} files (${v.bytes} bytes), ${v.unchanged} unchanged, ${v.deleted} deleted`));
      return { data: { target: a.target, nodes: d.nodes, counts: d.counts, durationMs: d.durationMs }, text: d.text, isError: run.results.some((r) => r.outcome !== 'ok') };
    },
  });
}

const getTool = defineTool({
  name: 'vssh_get',
  title: 'Copy files from a node',
  description: 'Copies a file or folder from one node to a path on the controller; files already there with the same content do not cross, others are replaced (destructive on the controller side).',
  toolset: 'files',
  input: { node: nodeField, path: pathField.describe('the file or folder on the node'), local: localField.describe('where to put it on the controller (a folder receives it under its name)') },
  output: { node: z.string(), path: z.string(), local: z.string(), files: z.number(), bytes: z.number() },
  annotations: { readOnly: false, destructive: true, idempotent: true, openWorld: true },
  long: true,
  targets: (a) => a.node,
  confirm: (a) => `Copy ${a.node}:${a.path} to ${a.local} on the controller (replacing files there)?`,
  async run(a, ctx) {
    return onNode(ctx, a.node, async ({ node, client }) => {
      const r = await client.get(a.path, a.local);
      const data = { node, path: a.path, local: a.local, files: r.received.files, bytes: r.received.bytes };
      return { data, text: `${node}:${a.path} -> ${a.local}: ${data.files} files written (${data.bytes} bytes)` };
    });
  },
});

const DIFF_CAP = 20_000;
const version = z.object({ sha256: z.string().nullable(), nodes: z.array(z.string()), size: z.number().nullable(), reason: z.string().optional(), diff: z.string().optional(), diffTruncated: z.boolean().optional() });

const fileDiff = defineTool({
  name: 'mpop_file_diff',
  title: 'Compare one file across nodes',
  description: 'Reads one file on every node of the target and groups the nodes by its SHA-256; each version other than the most common one comes with a unified diff (diff -u) against it. A node where the file is missing is its own group; a down node is listed apart. Files over maxBytes are compared by hash only.',
  toolset: 'files',
  input: { target: targetField, path: pathField, maxBytes: z.number().int().positive().max(16 * 1024 * 1024).optional().describe('diff only files up to this size (default 1 MiB); larger ones are compared by hash') },
  output: { target: z.string(), path: z.string(), identical: z.boolean(), versions: z.array(version), unreachable: z.array(z.object({ node: z.string(), outcome: z.string(), message: z.string() })) },
  annotations: READ,
  long: true,
  targets: (a) => a.target,
  async run(a, ctx) {
    const max = a.maxBytes ?? 1024 * 1024;
    const nodes = (await ctx.inventory()).resolve(a.target);
    const stats = await fanout(ctx.pool, nodes, async ({ client }) => {
      try {
        const st = await client.stat(a.path, { hash: true });
        return st.type === 'file' ? { sha256: st.sha256 ?? null, size: st.size } : { sha256: null, size: null, reason: `a ${st.type}, not a file` };
      } catch (err) {
        if ((err as { code?: string }).code === 'VSSH_NOT_FOUND') return { sha256: null, size: null, reason: 'missing' };
        throw err;
      }
    }, { signal: ctx.signal });
    const groups = new Map<string, z.infer<typeof version>>();
    for (const r of stats.results) {
      if (r.outcome !== 'ok' || !r.value) continue;
      const key = r.value.sha256 ?? `absent:${r.value.reason}`;
      const g = groups.get(key) ?? { sha256: r.value.sha256, nodes: [], size: r.value.size, ...(r.value.reason ? { reason: r.value.reason } : {}) };
      g.nodes.push(r.node);
      groups.set(key, g);
    }
    const versions = [...groups.values()].sort((x, y) => y.nodes.length - x.nodes.length || Number(y.sha256 !== null) - Number(x.sha256 !== null));
    const base = versions.find((v) => v.sha256 !== null);
    const wanted = base && base.size! <= max ? versions.filter((v) => v.sha256 !== null && v.size! <= max) : [];
    if (wanted.length > 1) {
      await withTemp(async (dir) => {
        const copies = await fanout(ctx.pool, wanted.map((v) => v.nodes[0]!), async ({ node, client }) => {
          await client.get(a.path, join(dir, node));
          return join(dir, node, posix.basename(a.path));
        }, { signal: ctx.signal });
        const local = new Map(copies.results.filter((r) => r.outcome === 'ok').map((r) => [r.node, r.value!]));
        const baseFile = local.get(base!.nodes[0]!);
        for (const v of wanted.slice(1)) {
          const file = local.get(v.nodes[0]!);
          if (!baseFile || !file) continue;
          const d = await execa('diff', ['-u', '--label', `${base!.nodes[0]}:${a.path}`, '--label', `${v.nodes[0]}:${a.path}`, baseFile, file], { reject: false, cancelSignal: ctx.signal });
          const text = d.exitCode === 2 ? `diff failed: ${d.stderr}` : d.stdout;
          v.diff = text.length > DIFF_CAP ? text.slice(0, DIFF_CAP) : text;
          if (text.length > DIFF_CAP) v.diffTruncated = true;
        }
      });
    }
    const unreachable = stats.results.filter((r) => r.outcome !== 'ok').map((r) => ({ node: r.node, outcome: r.outcome, message: r.error?.message ?? r.outcome }));
    const identical = versions.length === 1 && versions[0]!.sha256 !== null;
    const text = [
      identical ? `${a.path} is identical on ${versions[0]!.nodes.length} nodes (sha256 ${versions[0]!.sha256!.slice(0, 12)})` : `${a.path}: ${versions.length} versions`,
      ...(identical ? [] : versions.map((v) => `${v.sha256 ? v.sha256.slice(0, 12) : v.reason}: ${v.nodes.join(', ')}${v.diff ? `\n${v.diff.trimEnd()}` : ''}`)),
      ...unreachable.map((u) => `${u.node}: ${u.outcome}: ${u.message}`),
    ].join('\n');
    return { data: { target: a.target, path: a.path, identical, versions, unreachable }, text, isError: unreachable.length > 0 };
  },
});

/** fileTools are the `files` toolset. */
export const fileTools: ToolDef[] = [readFileTool, writeFileTool, listFiles, statTool, transferTool('vssh_put'), transferTool('vssh_sync'), getTool, fileDiff] as unknown as ToolDef[];
