import { z } from 'zod';
import type { Context, IndexProgress, NodeIndexResult } from '@meshpop/meshdb';
import { MpopError } from '../../errors.js';
import { defineTool, LOCAL_READ, type ToolContext, type ToolDef } from '../tool.js';
import { targetField } from './exec.js';
import { parseRange } from './files.js';

// meshdb is imported inside each run, never at the top: loading it (SQLite, its shards' code) costs 10-30 ms that
// a server start need not pay, and its semantic subpath (Chroma, the embedding model) far more.
const meshdb = () => import('@meshpop/meshdb');

/** NEXT says what an agent can do about a meshdb failure. */
const NEXT: Record<string, string> = {
  MESHDB_NOT_INDEXED: 'meshdb_status lists the indexed nodes; meshdb_index indexes a node\'s paths.',
  MESHDB_CORRUPT: 'meshdb_index with the node and no paths rebuilds its index from the roots it had.',
  MESHDB_NOT_FOUND: 'The file is gone from the node; meshdb_index with the node and no paths brings the index up to date.',
  MESHDB_CHROMA:
    'Semantic search needs Chroma: without MESHDB_CHROMA_URL in mpop-mcp\'s environment it starts the embedded server (the chromadb package) on demand; with it, that server must answer. meshdb_search (words, literal, regex) never needs Chroma.',
};

/** CodedError keeps a library error's own code (MESHDB_..., VSSH_...) with a message that says what to do next. */
class CodedError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'CodedError';
  }
}

/** meshdbCall runs a meshdb call: its bad-input errors become MPOP_USAGE (a tool error about the arguments), others get a next step. */
async function meshdbCall<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message?.replace(/\(leave out --fts[^)]*\)/, '(use mode "words" to search the words as given)').replace(/--chroma-url/g, 'MESHDB_CHROMA_URL');
    if (code === 'MESHDB_BAD_INPUT') throw new MpopError('MPOP_USAGE', message);
    if (typeof code === 'string' && NEXT[code]) throw new CodedError(code, `${message}\n${NEXT[code]}`);
    throw err;
  }
}

const mctx = (ctx: ToolContext): Context => ({ home: ctx.home, pool: ctx.pool, signal: ctx.signal });

const nodesField = z.string().min(1).optional().describe('only these indexed nodes: a name or comma list of names, or @group / a glob resolved through the inventory (default: every indexed node)');

/** nodesOf reads a nodes filter: plain names are taken as the index knows them (a node may be indexed and gone from the fleet); @group and globs go through the inventory. */
async function nodesOf(ctx: ToolContext, spec: string | undefined): Promise<string[] | undefined> {
  if (!spec) return undefined;
  if (/^[A-Za-z0-9_.,\s-]+$/.test(spec)) return [...new Set(spec.split(',').map((s) => s.trim()).filter(Boolean))];
  return (await ctx.inventory()).resolve(spec);
}

/** chromaTurn makes semantic work one call at a time: the embedded Chroma keeps one data folder. */
let chromaTurn: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = chromaTurn.then(fn, fn);
  chromaTurn = run.catch(() => undefined);
  return run;
}

const clean = (s: string): string => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
const size = (b: number): string => (b < 1024 ? `${b} B` : b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`);

const failedSchema = z.array(z.object({ node: z.string(), code: z.string().optional(), message: z.string() }));
const lineMatch = z.object({ line: z.number().describe('1-based'), text: z.string(), ranges: z.array(z.tuple([z.number(), z.number()])).describe('match offsets in text') });

const searchTool = defineTool({
  name: 'meshdb_search',
  title: 'Search every indexed file',
  description:
    'Searches the files meshdb indexed on the nodes (no node is asked: the index is on this machine). mode "words" (default) ranks files by bm25 with the file name and path above the content; "literal" finds an exact substring (case-sensitive unless ignoreCase); "regex" a JavaScript regex matched line by line; "fts" the SQLite FTS5 query language (AND, OR, NOT, NEAR, "phrases"). Results are node:path:line with the matching lines. Secrets, binaries and huge files are never indexed. Narrow with node, types and path. meshdb_index indexes (or refreshes) what is searched.',
  toolset: 'search',
  input: {
    query: z.string().min(1).describe('what to look for'),
    mode: z.enum(['words', 'literal', 'regex', 'fts']).optional().describe('words (default), literal, regex or fts'),
    node: nodesField,
    types: z.array(z.string().min(1)).optional().describe('file extensions without the dot, e.g. ["ts", "conf"]'),
    path: z.string().min(1).optional().describe('a glob on the absolute path: * and ** match across folders, ? one character, e.g. "/etc/**"'),
    ignoreCase: z.boolean().optional().describe('literal and regex: ignore case (words and fts always do)'),
    limit: z.number().int().min(1).max(200).optional().describe('files to return (default 20)'),
    linesPerFile: z.number().int().min(1).max(50).optional().describe('matching lines kept per file (default 5)'),
  },
  output: {
    query: z.string(),
    mode: z.enum(['words', 'literal', 'regex', 'fts']),
    hits: z.array(z.object({ node: z.string(), path: z.string(), ref: z.string().describe('node:path:line of the first match'), score: z.number(), matches: z.number().describe('matching lines in the file'), lines: z.array(lineMatch) })),
    notes: z.array(z.string()),
    failed: failedSchema,
  },
  annotations: LOCAL_READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    const nodes = await nodesOf(ctx, a.node);
    const { search } = await meshdb();
    const r = await meshdbCall(() =>
      search(a.query, { ...(a.mode ? { mode: a.mode } : {}), ...(nodes ? { nodes } : {}), ...(a.types ? { types: a.types } : {}), ...(a.path ? { path: a.path } : {}), ...(a.ignoreCase ? { ignoreCase: true } : {}), limit: a.limit ?? 20, ...(a.linesPerFile ? { linesPerFile: a.linesPerFile } : {}) }, mctx(ctx)),
    );
    const notes = r.notes.map((n) => n.replace('run `meshdb index NODE PATH`', 'index with meshdb_index (a target and its paths)'));
    const lines: string[] = [];
    for (const h of r.hits) {
      if (!h.lines.length) lines.push(`${h.ref}: (the file name or path matched)`);
      for (const l of h.lines) lines.push(`${h.node}:${h.path}:${l.line}: ${clean(l.text.trim())}`);
      if (h.matches > h.lines.length && h.lines.length) lines.push(`  ... ${h.matches - h.lines.length} more matching line(s) in ${h.node}:${h.path}`);
    }
    const empty = r.hits.length === 0;
    const text = [
      ...(empty ? [`nothing matched "${a.query}" (${r.mode})${r.mode === 'literal' ? '; a literal is case-sensitive (ignoreCase: true), or try mode "words"' : ''}`] : lines),
      ...notes.map((n) => `note: ${n}`),
      ...r.failed.map((f) => `not searched: ${f.node}: ${f.message}`),
    ].join('\n');
    return { data: { query: r.query, mode: r.mode, hits: r.hits, notes, failed: r.failed }, text, isError: empty };
  },
});

const semanticTool = defineTool({
  name: 'meshdb_semantic',
  title: 'Search indexed files by meaning',
  description:
    'Finds the chunks of indexed files (40 lines each) closest in meaning to the query: embedded offline (Universal Sentence Encoder), nearest by cosine distance in Chroma. Only files indexed with meshdb_index semantic: true are there. Chroma is the embedded server, started for the call, or the one MESHDB_CHROMA_URL names in mpop-mcp\'s environment. Results are node:path:start-end with the chunk. Slow on a busy machine (the model loads on each call): it may become a job.',
  toolset: 'search',
  input: {
    query: z.string().min(1).describe('a question or description in plain words, e.g. "how do we rotate ssh keys"'),
    node: nodesField,
    limit: z.number().int().min(1).max(50).optional().describe('chunks to return (default 10)'),
  },
  output: {
    query: z.string(),
    hits: z.array(z.object({ node: z.string(), path: z.string(), start: z.number(), end: z.number(), ref: z.string().describe('node:path:start-end'), distance: z.number().describe('cosine distance, 0 is the same meaning'), text: z.string() })),
  },
  annotations: LOCAL_READ,
  long: true,
  targets: (a) => a.node,
  async run(a, ctx) {
    if (!a.query.trim()) throw new MpopError('MPOP_USAGE', 'an empty query');
    const nodes = await nodesOf(ctx, a.node);
    ctx.progress({ done: 0, total: 1, message: 'starting Chroma and the embedding model' });
    const r = await oneAtATime(() =>
      meshdbCall(async () => {
        const { semantic } = await import('@meshpop/meshdb/semantic');
        return semantic(a.query, { home: ctx.home, limit: a.limit ?? 10, ...(nodes ? { nodes } : {}) });
      }),
    );
    const hits = r.hits.map((h) => ({ ...h, text: h.text.length > 4000 ? `${h.text.slice(0, 4000)}...` : h.text }));
    const text = hits.length ? hits.map((h) => `${h.ref} (${h.distance.toFixed(3)}): ${clean(h.text.split('\n').find((l) => l.trim())?.trim() ?? '').slice(0, 160)}`).join('\n') : 'nothing in the semantic index: index files with meshdb_index semantic: true';
    return { data: { query: r.query, hits }, text, isError: hits.length === 0 };
  },
});

const findTool = defineTool({
  name: 'meshdb_find',
  title: 'Find indexed files by name',
  description: 'Finds indexed files by name or path: a pattern with *, ? or [ is a glob (on the file name, or on the whole path when it has a /), anything else a case-insensitive substring of the path (exact names first). From the index on this machine; results are node:path.',
  toolset: 'search',
  input: {
    pattern: z.string().min(1).describe('e.g. "nginx.conf", "*.service", "/etc/**/*.conf"'),
    node: nodesField,
    limit: z.number().int().min(1).max(1000).optional().describe('files to return (default 100)'),
  },
  output: {
    pattern: z.string(),
    hits: z.array(z.object({ node: z.string(), path: z.string(), ref: z.string(), size: z.number(), mtime: z.string() })),
    failed: failedSchema,
  },
  annotations: LOCAL_READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    const nodes = await nodesOf(ctx, a.node);
    const { find } = await meshdb();
    const r = await meshdbCall(() => find(a.pattern, { limit: a.limit ?? 100, ...(nodes ? { nodes } : {}) }, mctx(ctx)));
    const hits = r.hits.map((h) => ({ ...h, mtime: new Date(h.mtime).toISOString() }));
    const text = [...(hits.length ? hits.map((h) => `${clean(h.ref)} (${size(h.size)})`) : [`no indexed file matches "${a.pattern}"`]), ...r.failed.map((f) => `not searched: ${f.node}: ${f.message}`)].join('\n');
    return { data: { pattern: a.pattern, hits, failed: r.failed }, text, isError: hits.length === 0 };
  },
});

const readTool = defineTool({
  name: 'meshdb_read',
  title: 'Read an indexed file',
  description:
    'Reads a file that meshdb indexed, as its node has it now (fetched through vssh), or a range of its lines: give a search or find result, node:/path or node:/path:line. Only indexed files are read, so nothing the index skipped (secrets, keys, binaries) comes back here; vssh_read_file reads any file.',
  toolset: 'search',
  input: {
    ref: z.string().min(3).describe('node:/path, or node:/path:LINE or node:/path:FROM-TO as meshdb_search gives them'),
    lines: z.string().optional().describe('a 1-based inclusive line range: "10-40", "100-" (to the end) or "7"; overrides a range in ref'),
  },
  output: {
    node: z.string(),
    path: z.string(),
    content: z.string().nullable(),
    lines: z.object({ from: z.number(), to: z.number(), total: z.number() }).nullable(),
    reason: z.string().optional(),
  },
  annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: true },
  targets: (a) => a.ref.split(':')[0],
  async run(a, ctx) {
    const m = /^([^:/]+):(\/.*?)(?::(\d+)(?:-(\d*))?)?$/.exec(a.ref);
    if (!m) throw new MpopError('MPOP_USAGE', `ref "${a.ref}" is not node:/path (e.g. web1:/etc/nginx/nginx.conf or web1:/etc/nginx/nginx.conf:10-40)`);
    const [node, path] = [m[1]!, m[2]!];
    const range = a.lines ? parseRange(a.lines) : m[3] ? { from: Number(m[3]), to: m[4] === undefined ? null : m[4] ? Number(m[4]) : null } : null;
    if (range && range.to !== null && range.to < range.from) throw new MpopError('MPOP_USAGE', `lines ${range.from}-${range.to}: the end comes before the start`);
    const { find, read } = await meshdb();
    const known = await meshdbCall(() => find(path, { nodes: [node], limit: 20 }, mctx(ctx)));
    const refuse = (reason: string) => ({ data: { node, path, content: null, lines: null, reason }, text: reason, isError: true });
    if (known.failed.length) return refuse(`${node} has no index here (${known.failed[0]!.message}); meshdb_index indexes it, vssh_read_file reads any file`);
    if (!known.hits.some((h) => h.path === path)) return refuse(`${node}:${path} is not in the index (never indexed, or skipped: a secret, binary or huge file); meshdb_find lists what is, vssh_read_file reads any file`);
    const r = await meshdbCall(() => read(node, path, range ? { from: range.from, ...(range.to !== null ? { to: range.to } : {}) } : {}, mctx(ctx)));
    const header = range ? `${node}:${path}, lines ${r.from}-${r.to} of ${r.totalLines}:\n` : '';
    return { data: { node, path, content: r.text, lines: { from: r.from, to: r.to, total: r.totalLines } }, text: header + r.text };
  },
});

const statusTool = defineTool({
  name: 'meshdb_status',
  title: 'Search index status',
  description: 'Per indexed node: files and bytes in the index, files skipped by reason (secret-name, secret-content, binary, too-large, ignored, gitignore, ...), the roots indexed, when it was last indexed, and whether it is stale (its last index failed, so its entries may be old). Read from this machine; no node is asked.',
  toolset: 'search',
  input: {},
  output: {
    nodes: z.array(z.object({
      node: z.string(),
      ok: z.boolean().describe('false: the index file could not be read (see error)'),
      files: z.number(),
      bytes: z.number(),
      skipped: z.record(z.string(), z.number()),
      roots: z.array(z.string()),
      lastIndex: z.string().nullable(),
      stale: z.boolean(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
      shardBytes: z.number(),
    })),
    totals: z.object({ nodes: z.number(), files: z.number(), bytes: z.number(), stale: z.number() }),
  },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const { status } = await meshdb();
    const r = await meshdbCall(() => status(mctx(ctx)));
    const nodes = r.nodes.map((n) => ({ ...n, lastIndex: n.lastIndex === null ? null : new Date(n.lastIndex).toISOString() }));
    const totals = { nodes: nodes.length, files: nodes.reduce((s, n) => s + n.files, 0), bytes: nodes.reduce((s, n) => s + n.bytes, 0), stale: nodes.filter((n) => n.stale).length };
    const line = (n: (typeof nodes)[number]): string => {
      if (!n.ok) return `${n.node}: unreadable index: ${n.error?.message ?? ''}`;
      const sk = Object.entries(n.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
      return `${n.node}: ${n.files} files, ${size(n.bytes)}, last indexed ${n.lastIndex ?? 'never'}${n.stale ? `, STALE (${n.error?.message ?? 'its last index failed'})` : ''}${sk ? `; skipped: ${sk}` : ''}; roots ${n.roots.join(' ') || 'none'}`;
    };
    const text = nodes.length ? [...nodes.map(line), `${totals.nodes} node(s), ${totals.files} files, ${size(totals.bytes)}${totals.stale ? `, ${totals.stale} stale` : ''}`].join('\n') : 'nothing is indexed yet: meshdb_index indexes a target\'s paths (e.g. {"target": "all", "paths": ["/etc", "~/code"]})';
    return { data: { nodes, totals }, text };
  },
});

const indexResult = z.object({
  node: z.string(),
  ok: z.boolean(),
  stale: z.boolean().describe('the node failed mid-way or could not be reached: its old entries are kept and marked stale'),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  roots: z.array(z.string()),
  listed: z.number(),
  added: z.number(),
  changed: z.number(),
  unchanged: z.number(),
  deleted: z.number(),
  skipped: z.record(z.string(), z.number()),
  bytesRead: z.number(),
  ms: z.number(),
});

const indexTool = defineTool({
  name: 'meshdb_index',
  title: 'Index files of nodes',
  description:
    'Walks paths on the target\'s nodes through vssh into the search index on this machine, incrementally: only new and changed files are read, deleted ones dropped. Without paths it re-walks the roots each node already has (and rebuilds a damaged index). Binaries, files over maxBytes, ignored folders (.git, node_modules unless asked, build outputs, .gitignore) and anything that looks like a secret are never stored, only counted. A node that cannot be reached is marked stale and keeps its old entries; the others finish. semantic: true also embeds the files for meshdb_semantic (slow). It changes nothing on the nodes.',
  toolset: 'search',
  input: {
    target: targetField,
    paths: z.array(z.string().min(1)).optional().describe('absolute paths (or ~/...) on each node, e.g. ["/etc/nginx", "~/code"]; leave out to re-walk what is indexed'),
    includeNodeModules: z.boolean().optional().describe('index node_modules folders too'),
    maxBytes: z.number().int().positive().max(64 * 1024 * 1024).optional().describe('skip files larger than this (default 1000000)'),
    semantic: z.boolean().optional().describe('also embed chunks into Chroma for meshdb_semantic (slow: a few chunks a second)'),
  },
  output: {
    target: z.string(),
    nodes: z.array(indexResult),
    semantic: z.object({ chunks: z.number(), files: z.number(), ms: z.number() }).optional(),
    notes: z.array(z.string()),
  },
  annotations: { readOnly: false, destructive: false, idempotent: true, openWorld: true },
  long: true,
  targets: (a) => a.target,
  async run(a, ctx) {
    for (const p of a.paths ?? []) if (!p.startsWith('/') && p !== '~' && !p.startsWith('~/')) throw new MpopError('MPOP_USAGE', `"${p}" is not an absolute path (or ~/...)`);
    const lib = await meshdb();
    let nodes = (await ctx.inventory()).resolve(a.target);
    const notes: string[] = [];
    if (!a.paths?.length) {
      const indexed = new Set((await lib.status(mctx(ctx))).nodes.map((n) => n.node));
      const fresh = nodes.filter((n) => !indexed.has(n));
      nodes = nodes.filter((n) => indexed.has(n));
      if (!nodes.length) throw new MpopError('MPOP_USAGE', `${fresh.length === 1 ? `${fresh[0]} is` : 'none of these nodes is'} indexed yet: give the paths to index (e.g. "paths": ["/etc", "~/code"])`);
      if (fresh.length) notes.push(`not indexed yet, left out (give paths to index them): ${fresh.join(', ')}`);
    }
    const finished = new Set<string>();
    const onProgress = (p: IndexProgress): void => {
      if (p.phase === 'done' || p.phase === 'failed') finished.add(p.node);
      ctx.progress({ done: finished.size, total: nodes.length, message: `${p.node}: ${p.phase}${p.phase === 'listing' ? '' : ` ${p.read}/${p.toRead} files read`}` });
    };
    const req = { onProgress, ...(a.includeNodeModules ? { includeNodeModules: true } : {}), ...(a.maxBytes ? { maxBytes: a.maxBytes } : {}) };
    const walk = (hooks: object): Promise<NodeIndexResult[]> =>
      meshdbCall(() => (a.paths?.length ? lib.index(nodes.map((node) => ({ node, paths: a.paths! })), { ...req, ...hooks }, mctx(ctx)) : lib.reindex(nodes, { ...req, ...hooks }, mctx(ctx))));
    let results: NodeIndexResult[];
    let semantic: { chunks: number; files: number; ms: number } | undefined;
    if (a.semantic) {
      [results, semantic] = await oneAtATime(() =>
        meshdbCall(async () => {
          const { openSemantic } = await import('@meshpop/meshdb/semantic');
          const sem = await openSemantic({ home: ctx.home });
          try {
            const r = await walk(sem.hooks());
            const flushed = await sem.flush((chunks) => ctx.progress({ done: nodes.length, total: nodes.length, message: `embedded ${chunks} chunks` }));
            return [r, flushed] as const;
          } finally {
            await sem.close();
          }
        }),
      );
    } else results = await walk({});
    const out = results.map((r) => ({ ...r, skipped: r.skipped as Record<string, number> }));
    const line = (r: (typeof out)[number]): string => {
      const sk = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
      if (!r.ok) return `${r.node}: ${r.stale ? 'STALE (old entries kept)' : 'failed'}: ${r.error?.code}: ${r.error?.message}`;
      return `${r.node}: ${r.listed} listed, ${r.added} added, ${r.changed} changed, ${r.unchanged} unchanged, ${r.deleted} deleted, ${size(r.bytesRead)} read in ${(r.ms / 1000).toFixed(1)} s${sk ? `; skipped: ${sk}` : ''}`;
    };
    const text = [...out.map(line), ...(semantic ? [`semantic: ${semantic.chunks} chunks of ${semantic.files} files embedded in ${(semantic.ms / 1000).toFixed(1)} s`] : []), ...notes.map((n) => `note: ${n}`)].join('\n');
    return { data: { target: a.target, nodes: out, ...(semantic ? { semantic } : {}), notes }, text, isError: out.some((r) => !r.ok) };
  },
});

/** searchTools: meshdb_search, meshdb_semantic, meshdb_find, meshdb_read, meshdb_status, meshdb_index (toolset search; meshdb is imported lazily). */
export const searchTools: ToolDef[] = [searchTool, semanticTool, findTool, readTool, statusTool, indexTool] as unknown as ToolDef[];
