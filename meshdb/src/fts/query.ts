import { MeshdbError } from '../errors.js';
import { listShards, Shard } from './store.js';
import { requiredLiterals } from './literals.js';

/** SearchMode chooses the index: words (bm25), a literal substring, a regex, or the raw FTS5 query language. */
export type SearchMode = 'words' | 'literal' | 'regex' | 'fts';

/** SearchOptions narrow and shape a search. */
export interface SearchOptions {
  mode?: SearchMode;
  nodes?: string[];
  /** file extensions, without the dot (ts, conf) */
  types?: string[];
  /** a glob on the absolute path: `*` and `**` match across folders, `?` one character */
  path?: string;
  limit?: number;
  /** matching lines kept per file (default 5) */
  linesPerFile?: number;
  ignoreCase?: boolean;
  signal?: AbortSignal;
}

/** LineMatch is one matching line: its number (from 1), text (cut to 400 characters) and match ranges in it. */
export interface LineMatch {
  line: number;
  text: string;
  ranges: Array<[number, number]>;
}

/** SearchHit is one file that matched, with where. `ref` is `node:path:line`. */
export interface SearchHit {
  node: string;
  path: string;
  ref: string;
  score: number;
  lines: LineMatch[];
  /** matching lines in the file, all of them, even past linesPerFile */
  matches: number;
}

/** SearchResult is the hits (best first) and notes (a fallback to a scan, a stale node, a damaged shard). */
export interface SearchResult {
  query: string;
  mode: SearchMode;
  hits: SearchHit[];
  notes: string[];
  /** shards that could not be searched, with why */
  failed: Array<{ node: string; code: string; message: string }>;
}

/** globToRegExp: `*`/`**` any run of characters (folders too), `?` one, `[...]` a class. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      while (glob[i + 1] === '*') i++;
      re += '.*';
    } else if (c === '?') re += '.';
    else if (c === '[') {
      const j = glob.indexOf(']', i + 1);
      if (j < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, j).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** ftsQuote makes a string one FTS5 string (so its syntax characters are literal). */
const ftsQuote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** wordsOf splits a query into the words the word index holds. */
export function wordsOf(q: string): string[] {
  return q.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** matcher builds the per-line test for a query in a mode. */
function matcher(query: string, mode: SearchMode, ignoreCase: boolean): RegExp {
  if (mode === 'regex') {
    try {
      return new RegExp(query, ignoreCase ? 'gi' : 'g');
    } catch (err) {
      throw new MeshdbError('MESHDB_BAD_INPUT', `not a valid regex: ${(err as Error).message}`);
    }
  }
  if (mode === 'literal') return new RegExp(escapeRe(query), ignoreCase ? 'gi' : 'g');
  const words = mode === 'fts' ? wordsOf(query.replace(/\b(AND|OR|NOT|NEAR)\b/g, ' ')) : wordsOf(query);
  if (!words.length) return /$^/g;
  return new RegExp(`(?<![\\p{L}\\p{N}])(${words.map(escapeRe).join('|')})`, 'giu');
}

/** matchLines finds the matching lines of a text (each line tested on its own, as grep does). */
export function matchLines(body: string, re: RegExp, keep: number): { lines: LineMatch[]; count: number } {
  const lines: LineMatch[] = [];
  let count = 0;
  let start = 0;
  let n = 1;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const text = body.slice(start, end);
    re.lastIndex = 0;
    let m = re.exec(text);
    if (m) {
      count++;
      if (lines.length < keep) {
        const ranges: Array<[number, number]> = [];
        for (; m && ranges.length < 20; m = re.exec(text)) {
          if (m[0].length === 0) re.lastIndex++;
          ranges.push([m.index, m.index + m[0].length]);
        }
        const cut = text.length > 400 ? Math.max(0, Math.min(ranges[0]![0] - 100, text.length - 400)) : 0;
        lines.push({ line: n, text: text.slice(cut, cut + 400), ranges: ranges.map(([a, b]) => [a - cut, b - cut] as [number, number]).filter(([a]) => a >= 0 && a < 400) });
      }
    }
    if (end === body.length) break;
    start = end + 1;
    n++;
  }
  return { lines, count };
}

interface Candidate {
  path: string;
  ext: string;
  body: string;
  score: number;
}

/**
 * searchShard runs one query on one shard. Literal and regex queries are narrowed by the trigram index
 * (a query under three characters, or a regex without a literal of three, scans the shard instead, and
 * says so in `notes`), then confirmed line by line; word queries are ranked with bm25 (path and name
 * weighted above the body).
 */
export function searchShard(shard: Shard, query: string, o: SearchOptions, notes: Set<string>): SearchHit[] {
  const mode = o.mode ?? 'words';
  const limit = o.limit ?? 20;
  const re = matcher(query, mode, !!o.ignoreCase || mode === 'words' || mode === 'fts');
  const where: string[] = [];
  const params: unknown[] = [];
  if (o.types?.length) {
    where.push(`d.ext IN (${o.types.map(() => '?').join(',')})`);
    params.push(...o.types.map((t) => t.replace(/^\./, '').toLowerCase()));
  }
  const pathRe = o.path ? globToRegExp(o.path) : undefined;
  const filter = where.length ? ` AND ${where.join(' AND ')}` : '';
  let rows: Iterable<Candidate>;
  const db = shard.db;
  if (mode === 'words' || mode === 'fts') {
    const words = wordsOf(query);
    if (mode === 'words' && !words.length) return [];
    const q = mode === 'fts' ? query : words.map(ftsQuote).join(' ');
    try {
      rows = db.prepare(`SELECT d.path, d.ext, d.body, bm25(words, 4.0, 8.0, 1.0) AS score FROM words JOIN docs d ON d.id = words.rowid WHERE words MATCH ?${filter} ORDER BY score LIMIT ?`).iterate(q, ...params, pathRe ? 100_000 : limit) as Iterable<Candidate>;
      rows = [...rows];
    } catch (err) {
      throw new MeshdbError('MESHDB_BAD_INPUT', `not a valid FTS5 query: ${(err as Error).message} (leave out --fts to search the words as given)`);
    }
  } else {
    // a trigram is three code points (an emoji is one, though two UTF-16 units)
    const lits = (mode === 'literal' ? [query] : requiredLiterals(query)).filter((l) => [...l].length >= 3);
    if (lits.length) {
      rows = db.prepare(`SELECT d.path, d.ext, d.body, 0 AS score FROM tri JOIN docs d ON d.id = tri.rowid WHERE tri MATCH ?${filter} ORDER BY d.path`).iterate(lits.map(ftsQuote).join(' AND '), ...params) as Iterable<Candidate>;
    } else {
      notes.add(mode === 'literal' ? `"${query}" is shorter than three characters (no trigram): every file was scanned` : `the regex has no literal of three characters for the trigram index: every file was scanned`);
      rows = mode === 'literal'
        ? (db.prepare(`SELECT d.path, d.ext, d.body, 0 AS score FROM docs d WHERE instr(${o.ignoreCase ? 'lower(d.body), lower(?)' : 'd.body, ?'}) > 0${filter} ORDER BY d.path`).iterate(query, ...params) as Iterable<Candidate>)
        : (db.prepare(`SELECT d.path, d.ext, d.body, 0 AS score FROM docs d WHERE 1${filter} ORDER BY d.path`).iterate(...params) as Iterable<Candidate>);
    }
  }
  const hits: SearchHit[] = [];
  for (const r of rows) {
    if (pathRe && !pathRe.test(r.path)) continue;
    const { lines, count } = matchLines(r.body, re, o.linesPerFile ?? 5);
    // a words hit may match on its path or name only: that is still a hit, at line 0
    if (count === 0 && mode !== 'words' && mode !== 'fts') continue;
    hits.push({ node: shard.node, path: r.path, ref: `${shard.node}:${r.path}:${lines[0]?.line ?? 0}`, score: r.score, lines, matches: count });
    if (hits.length >= limit) break;
  }
  return hits;
}

/** search runs a query over every shard (or those named), merging the hits best first. */
export function search(shardsDir: string, query: string, o: SearchOptions = {}): SearchResult {
  const mode = o.mode ?? 'words';
  if (!query) throw new MeshdbError('MESHDB_BAD_INPUT', 'an empty query');
  const nodes = o.nodes?.length ? o.nodes : listShards(shardsDir);
  const notes = new Set<string>();
  const failed: SearchResult['failed'] = [];
  let hits: SearchHit[] = [];
  if (nodes.length === 0) notes.add('nothing is indexed yet: run `meshdb index NODE PATH`');
  for (const node of nodes) {
    if (o.signal?.aborted) throw new MeshdbError('MESHDB_ABORTED', 'cancelled');
    let shard: Shard;
    try {
      shard = Shard.open(shardsDir, node, { readonly: true });
    } catch (err) {
      if (err instanceof MeshdbError && err.code !== 'MESHDB_INTERNAL') {
        if (o.nodes?.length && err.code === 'MESHDB_NOT_INDEXED') throw err;
        failed.push({ node, code: err.code, message: err.message });
        continue;
      }
      throw err;
    }
    try {
      if (shard.getMeta('stale')) notes.add(`${node} is stale (its last index failed): its results may be old`);
      else if (shard.interrupted()) notes.add(`${node}'s last index did not finish: its results may be incomplete (run \`meshdb reindex ${node}\`)`);
      hits.push(...searchShard(shard, query, o, notes));
    } catch (err) {
      if (err instanceof MeshdbError && err.code === 'MESHDB_BAD_INPUT') throw err;
      failed.push({ node, code: 'MESHDB_CORRUPT', message: `the index of ${node} could not be read (${(err as Error).message}); run \`meshdb reindex ${node}\`` });
    } finally {
      shard.close();
    }
  }
  if (mode === 'words' || mode === 'fts') hits.sort((a, b) => a.score - b.score);
  else hits.sort((a, b) => (a.node === b.node ? (a.path < b.path ? -1 : 1) : a.node < b.node ? -1 : 1));
  hits = hits.slice(0, o.limit ?? 20);
  return { query, mode, hits, notes: [...notes], failed };
}
