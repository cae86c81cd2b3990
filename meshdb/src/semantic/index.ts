/**
 * @meshpop/meshdb/semantic: chunk embeddings in a Chroma collection (cosine distance), embedded with the
 * offline Universal Sentence Encoder; the embedded Chroma server is started on demand as a child and
 * stopped cleanly, or `chromaUrl` points at any Chroma server. Hybrid search fuses the word ranking and
 * the semantic ranking by reciprocal rank.
 */
import { createHash } from 'node:crypto';
import { ChromaClient, type Collection } from 'chromadb';
import { MeshdbError } from '../errors.js';
import { meshdbPaths } from '../paths.js';
import { search as wordSearch, type SearchOptions, type SearchResult, type SearchHit } from '../fts/query.js';
import { chunkLines } from './chunk.js';
import { UseEmbedding, loadModel } from './embed.js';
import { ChromaServer, heartbeat } from './server.js';
import { EmbedThreads, embedThreads } from './threads.js';

export { chunkLines, type Chunk } from './chunk.js';
export { UseEmbedding, loadModel, MODEL_WINDOW_CHARS } from './embed.js';
export { ChromaServer, heartbeat } from './server.js';
export { EmbedThreads, embedThreads } from './threads.js';

/** COLLECTION is the Chroma collection meshdb keeps its chunks in. */
export const COLLECTION = 'meshdb_chunks';

/** SemanticOptions say where Chroma is. */
export interface SemanticOptions {
  home?: string;
  /** any Chroma server; without it, the embedded one is started under $MESHPOP_HOME/meshdb/chroma */
  chromaUrl?: string;
}

/** SemanticHit is a chunk close to the query: `ref` is `node:path:start-end`; distance is cosine (0 = same). */
export interface SemanticHit {
  node: string;
  path: string;
  start: number;
  end: number;
  ref: string;
  distance: number;
  text: string;
}

/** Semantic is an open connection to Chroma (and the embedded server when meshdb started one). */
export interface Semantic {
  url: string;
  server: ChromaServer | undefined;
  collection: Collection;
  /** hooks for index(): documents are queued and embedded by flush() */
  hooks(): { onDocument: (node: string, path: string, body: string) => void; onDelete: (node: string, path: string) => void };
  /** flush embeds and stores the queued documents; returns chunks added */
  flush(onProgress?: (chunks: number) => void): Promise<{ chunks: number; files: number; ms: number }>;
  addDocument(node: string, path: string, body: string): Promise<number>;
  deleteDocument(node: string, path: string): Promise<void>;
  forgetNode(node: string): Promise<number>;
  query(text: string, opts?: { limit?: number; nodes?: string[] }): Promise<SemanticHit[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** FLUSH_CHUNKS is how many chunks flush() embeds and writes to Chroma at a time. */
const FLUSH_CHUNKS = 64;

/** Pending is a chunk ready to embed: its Chroma id, the model's input (file label + text), text and metadata. */
interface Pending {
  id: string;
  input: string;
  text: string;
  meta: { node: string; path: string; start: number; end: number };
}

/** pendingChunks cuts a file into chunks with their ids (stable per node, path and first line). */
function pendingChunks(node: string, path: string, body: string): Pending[] {
  const label = path.split('/').slice(-2).join('/');
  return chunkLines(body).map((c) => ({
    id: createHash('sha256').update(`${node}\0${path}\0${c.start}`).digest('hex').slice(0, 32),
    input: `${label}\n${c.text}`,
    text: c.text,
    meta: { node, path, start: c.start, end: c.end },
  }));
}

const chromaError = (err: unknown, url: string): MeshdbError =>
  err instanceof MeshdbError ? err : new MeshdbError('MESHDB_CHROMA', `Chroma at ${url} failed: ${(err as Error).message}; is it running? (word search does not need it)`, { cause: err });

async function connect(url: string): Promise<{ client: ChromaClient; collection: Collection }> {
  const u = new URL(url);
  const client = new ChromaClient({ host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), ssl: u.protocol === 'https:' });
  const collection = await client.getOrCreateCollection({ name: COLLECTION, embeddingFunction: new UseEmbedding(), configuration: { hnsw: { space: 'cosine' } } });
  return { client, collection };
}

/** openSemantic connects to Chroma (starting the embedded server when no URL is given). */
export async function openSemantic(opts: SemanticOptions = {}): Promise<Semantic> {
  let server: ChromaServer | undefined;
  let url = opts.chromaUrl ?? process.env.MESHDB_CHROMA_URL;
  if (!url) {
    server = new ChromaServer(meshdbPaths(opts.home).chroma);
    await server.start();
    url = server.url;
  } else if (!(await heartbeat(url, 3000))) throw new MeshdbError('MESHDB_CHROMA', `no Chroma server answers at ${url}; start it, or leave out --chroma-url to use the embedded one (word search does not need it)`);
  let collection: Collection;
  try {
    collection = (await connect(url)).collection;
  } catch (err) {
    await server?.stop();
    throw chromaError(err, url);
  }
  const emb = new UseEmbedding();
  // flush() embeds in worker threads (one model per core); made on first use, ended by close()
  let threads: EmbedThreads | undefined;
  const bulk = (): UseEmbedding => {
    if (embedThreads() < 2) return emb;
    threads ??= new EmbedThreads();
    return new UseEmbedding(threads);
  };
  const queue: Array<[string, string, string]> = [];
  const deletes: Array<[string, string]> = [];
  // a call that fails because the embedded server died restarts it once and tries again
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (!server || server.running) throw chromaError(err, sem.url);
      await server.start();
      sem.url = server.url;
      collection = (await connect(server.url)).collection;
      sem.collection = collection;
      try {
        return await fn();
      } catch (err2) {
        throw chromaError(err2, sem.url);
      }
    }
  };
  const deleteMany = async (docs: Array<[string, string]>): Promise<void> => {
    const byNode = new Map<string, string[]>();
    for (const [n, p] of docs) byNode.set(n, [...(byNode.get(n) ?? []), p]);
    for (const [node, paths] of byNode) {
      for (let i = 0; i < paths.length; i += 100) {
        const some = [...new Set(paths.slice(i, i + 100))];
        await guarded(() => collection.delete({ where: { $and: [{ node }, some.length === 1 ? { path: some[0]! } : { path: { $in: some } }] } }));
      }
    }
  };
  const sem: Semantic = {
    url,
    server,
    collection,
    hooks: () => ({ onDocument: (n, p, b) => void queue.push([n, p, b]), onDelete: (n, p) => void deletes.push([n, p]) }),
    async flush(onProgress) {
      const t0 = performance.now();
      let chunks = 0;
      const docs = queue.splice(0);
      // old chunks of every changed or deleted file go first, a hundred paths per call
      await deleteMany([...deletes.splice(0), ...docs.map(([n, p]) => [n, p] as [string, string])]);
      // then the chunks of all queued files, FLUSH_CHUNKS per model call and Chroma write (files are small: one each was slow)
      const pending: Pending[] = [];
      const write = async (): Promise<void> => {
        const part = pending.splice(0);
        if (!part.length) return;
        const embeddings = await bulk().generate(part.map((c) => c.input));
        await guarded(() => collection.upsert({ ids: part.map((c) => c.id), embeddings, documents: part.map((c) => c.text), metadatas: part.map((c) => c.meta) }));
        chunks += part.length;
        onProgress?.(chunks);
      };
      for (const [n, p, b] of docs) {
        pending.push(...pendingChunks(n, p, b));
        if (pending.length >= FLUSH_CHUNKS) await write();
      }
      await write();
      return { chunks, files: docs.length, ms: Math.round(performance.now() - t0) };
    },
    async addDocument(node, path, body) {
      await sem.deleteDocument(node, path);
      const part = pendingChunks(node, path, body);
      if (!part.length) return 0;
      const embeddings = await emb.generate(part.map((c) => c.input));
      await guarded(() => collection.upsert({ ids: part.map((c) => c.id), embeddings, documents: part.map((c) => c.text), metadatas: part.map((c) => c.meta) }));
      return part.length;
    },
    async deleteDocument(node, path) {
      await guarded(() => collection.delete({ where: { $and: [{ node }, { path }] } }));
    },
    async forgetNode(node) {
      const got = await guarded(() => collection.get({ where: { node }, include: [] }));
      if (got.ids.length) await guarded(() => collection.delete({ ids: got.ids }));
      return got.ids.length;
    },
    async query(text, o = {}) {
      if (!text.trim()) throw new MeshdbError('MESHDB_BAD_INPUT', 'an empty query');
      const [q] = await emb.generateForQueries([text]);
      const where = o.nodes?.length ? (o.nodes.length === 1 ? { node: o.nodes[0]! } : { node: { $in: o.nodes } }) : undefined;
      const r = await guarded(() => collection.query({ queryEmbeddings: [q!], nResults: o.limit ?? 10, ...(where ? { where } : {}), include: ['documents', 'metadatas', 'distances'] }));
      const hits: SemanticHit[] = [];
      const ids = r.ids[0] ?? [];
      for (let i = 0; i < ids.length; i++) {
        const m = (r.metadatas[0]?.[i] ?? {}) as { node: string; path: string; start: number; end: number };
        hits.push({ node: m.node, path: m.path, start: m.start, end: m.end, ref: `${m.node}:${m.path}:${m.start}-${m.end}`, distance: r.distances[0]?.[i] ?? 1, text: r.documents[0]?.[i] ?? '' });
      }
      return hits;
    },
    count: () => guarded(() => collection.count()),
    async close() {
      await threads?.close();
      threads = undefined;
      await server?.stop();
    },
  };
  return sem;
}

/** semantic runs one semantic query (opening and closing Chroma around it). */
export async function semantic(query: string, opts: SemanticOptions & { limit?: number; nodes?: string[] } = {}): Promise<{ query: string; hits: SemanticHit[] }> {
  const sem = await openSemantic(opts);
  try {
    return { query, hits: await sem.query(query, opts) };
  } finally {
    await sem.close();
  }
}

/** rrf fuses ranked lists by reciprocal rank (k = 60): score = sum of 1 / (k + rank). */
export function rrf(lists: string[][], k = 60): Map<string, number> {
  const score = new Map<string, number>();
  for (const l of lists) l.forEach((key, i) => score.set(key, (score.get(key) ?? 0) + 1 / (k + i + 1)));
  return score;
}

/** hybrid fuses the word ranking and the semantic ranking of files by reciprocal rank. */
export async function hybrid(query: string, opts: SearchOptions & SemanticOptions = {}): Promise<SearchResult> {
  const limit = opts.limit ?? 20;
  const words = wordSearch(meshdbPaths(opts.home).shards, query, { ...opts, mode: 'words', limit: 50 });
  const sem = await semantic(query, { ...opts, limit: 50 });
  const key = (n: string, p: string): string => `${n}:${p}`;
  const semFiles: string[] = [];
  const bySem = new Map<string, SemanticHit>();
  for (const h of sem.hits) {
    const k = key(h.node, h.path);
    if (!bySem.has(k)) {
      bySem.set(k, h);
      semFiles.push(k);
    }
  }
  const byWord = new Map(words.hits.map((h) => [key(h.node, h.path), h]));
  const scores = rrf([words.hits.map((h) => key(h.node, h.path)), semFiles]);
  const hits: SearchHit[] = [...scores].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k, score]) => {
    const w = byWord.get(k);
    if (w) return { ...w, score };
    const s = bySem.get(k)!;
    return { node: s.node, path: s.path, ref: s.ref, score, matches: 0, lines: [{ line: s.start, text: s.text.split('\n')[0]!.slice(0, 400), ranges: [] }] };
  });
  return { query, mode: 'words', hits, notes: words.notes, failed: words.failed };
}

/** chromaState says where Chroma is and whether it answers, without starting anything. */
export async function chromaState(opts: SemanticOptions): Promise<{ mode: 'url' | 'embedded'; url?: string; up?: boolean; dir?: string; summary: string }> {
  const url = opts.chromaUrl ?? process.env.MESHDB_CHROMA_URL;
  if (url) {
    const up = await heartbeat(url, 1500);
    return { mode: 'url', url, up, summary: `${url} ${up ? 'answers' : 'does not answer'}` };
  }
  const dir = meshdbPaths(opts.home).chroma;
  return { mode: 'embedded', dir, summary: `embedded, started on demand (data in ${dir})` };
}

export { loadModel as warmModel };
