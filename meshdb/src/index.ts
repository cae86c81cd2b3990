/**
 * @meshpop/meshdb is MeshPOP's layer 4: search over the files of every node. Files are listed and read
 * through vssh into one SQLite shard per node (FTS5: a trigram index for literal and regex search, a word
 * index ranked with bm25), skipping binaries, huge files, ignored folders and anything that looks like a
 * secret. Semantic and hybrid search (Chroma and an offline embedding model) sit behind the
 * `@meshpop/meshdb/semantic` subpath, so importing this module loads neither.
 */
export { MeshdbError, isMeshdbError, type MeshdbErrorCode } from './errors.js';
export { meshdbPaths, type MeshdbPaths } from './paths.js';
export { index, reindex, parseTargets, search, find, read, status, forget, type Context, type IndexRequest, type FindHit, type ReadResult, type NodeStatus } from './api.js';
export type { IndexTarget, IndexProgress, NodeIndexResult } from './indexer.js';
export type { SearchMode, SearchOptions, SearchResult, SearchHit, LineMatch } from './fts/query.js';
export { findSecret } from './walk/secrets.js';
export { requiredLiterals } from './fts/literals.js';
export type { SkipReason } from './walk/skip.js';
