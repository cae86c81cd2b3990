import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MeshdbError } from '../errors.js';
import { validNodeName } from '../paths.js';

/** SCHEMA_VERSION is the shard layout; a shard of another version is rebuilt by `reindex`. */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (root TEXT PRIMARY KEY, indexed_at INTEGER, options TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS docs (id INTEGER PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL, ext TEXT NOT NULL,
  size INTEGER NOT NULL, mtime INTEGER NOT NULL, sha256 TEXT NOT NULL, lines INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, root TEXT NOT NULL, reason TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(path, name, body, content='docs', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS tri USING fts5(body, content='docs', content_rowid='id', tokenize='trigram');
CREATE INDEX IF NOT EXISTS docs_root ON docs(root);
CREATE INDEX IF NOT EXISTS skipped_root ON skipped(root);
`;

/** DocRow is one indexed file as its shard holds it. */
export interface DocRow {
  id: number;
  root: string;
  path: string;
  name: string;
  ext: string;
  size: number;
  mtime: number;
  sha256: string;
  lines: number;
  body: string;
}

/** ManifestEntry is what the shard knows of a path without its body: enough to skip an unchanged file. */
export interface ManifestEntry {
  size: number;
  mtime: number;
  sha256?: string;
  skipped?: string;
}

/** shardFile is the SQLite file of a node's shard. */
export function shardFile(dir: string, node: string): string {
  if (!validNodeName(node)) throw new MeshdbError('MESHDB_BAD_INPUT', `"${node}" is not a node name meshdb can keep (letters, digits, _ . -)`);
  return join(dir, `${node}.db`);
}

/** listShards names the nodes that have a shard in `dir`. */
export function listShards(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.db')).map((f) => f.slice(0, -3)).filter(validNodeName).sort();
}

/**
 * Shard is one node's index: a SQLite file with the manifest (docs, skipped), the word index (bm25 over
 * path, name and body) and the trigram index (substrings, literal and regex search), both over docs.
 */
export class Shard {
  readonly db: Database.Database;
  #upsert: Database.Statement;
  #insWords: Database.Statement;
  #insTri: Database.Statement;
  #delWords: Database.Statement;
  #delTri: Database.Statement;
  #byPath: Database.Statement;
  #delDoc: Database.Statement;
  #skip: Database.Statement;
  #unskip: Database.Statement;

  private constructor(readonly node: string, readonly file: string, db: Database.Database) {
    this.db = db;
    this.#byPath = db.prepare('SELECT id, path, name, body FROM docs WHERE path = ?');
    this.#upsert = db.prepare('INSERT INTO docs (root, path, name, ext, size, mtime, sha256, lines, body) VALUES (@root, @path, @name, @ext, @size, @mtime, @sha256, @lines, @body) RETURNING id');
    this.#delDoc = db.prepare('DELETE FROM docs WHERE id = ?');
    // the FTS tables read the body SQLite already holds (no second and third copy of it from JS)
    this.#insWords = db.prepare('INSERT INTO words (rowid, path, name, body) SELECT id, path, name, body FROM docs WHERE id = ?');
    this.#insTri = db.prepare('INSERT INTO tri (rowid, body) SELECT id, body FROM docs WHERE id = ?');
    this.#delWords = db.prepare("INSERT INTO words (words, rowid, path, name, body) VALUES ('delete', ?, ?, ?, ?)");
    this.#delTri = db.prepare("INSERT INTO tri (tri, rowid, body) VALUES ('delete', ?, ?)");
    this.#skip = db.prepare('INSERT INTO skipped (path, root, reason, size, mtime) VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET root = excluded.root, reason = excluded.reason, size = excluded.size, mtime = excluded.mtime');
    this.#unskip = db.prepare('DELETE FROM skipped WHERE path = ?');
  }

  /**
   * open opens (or creates) a node's shard. A file that is not a meshdb shard, or is damaged, is never
   * changed: it fails with MESHDB_CORRUPT and says to run `meshdb reindex`.
   */
  static open(dir: string, node: string, opts: { create?: boolean; readonly?: boolean } = {}): Shard {
    const file = shardFile(dir, node);
    if (!existsSync(file)) {
      if (!opts.create) throw new MeshdbError('MESHDB_NOT_INDEXED', `${node} has no index yet; run \`meshdb index ${node} PATH\``);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: !!opts.readonly && existsSync(file), fileMustExist: !opts.create });
      const fresh = !opts.readonly && (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'meta'").get() as { n: number }).n === 0;
      if (fresh) {
        const tables = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
        if (tables > 0) throw new Error('a SQLite file with other tables');
        db.pragma('journal_mode = WAL');
        db.exec(SCHEMA);
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)').run('schema', String(SCHEMA_VERSION), 'node', node);
      } else {
        const v = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
        if (v && v.value !== String(SCHEMA_VERSION)) throw new MeshdbError('MESHDB_CORRUPT', `the index of ${node} (${file}) was built with shard schema ${v.value} and this meshdb reads ${SCHEMA_VERSION}; run \`meshdb reindex ${node}\` to rebuild it`);
        if (!v) throw new Error('schema missing');
        if (!opts.readonly) db.pragma('journal_mode = WAL');
      }
      db.pragma('synchronous = NORMAL');
      return new Shard(node, file, db);
    } catch (err) {
      db?.close();
      if (err instanceof MeshdbError) throw err;
      throw new MeshdbError('MESHDB_CORRUPT', `the index of ${node} (${file}) is damaged or not a meshdb index (${(err as Error).message}); run \`meshdb reindex ${node}\` to rebuild it`, { cause: err });
    }
  }

  /** salvageRoots reads the roots table of a shard that cannot be opened as one (damaged, or of another schema), or []. */
  static salvageRoots(dir: string, node: string): string[] {
    let db: Database.Database | undefined;
    try {
      db = new Database(shardFile(dir, node), { readonly: true, fileMustExist: true });
      return (db.prepare('SELECT root FROM roots ORDER BY root').pluck().all() as unknown[]).filter((r): r is string => typeof r === 'string');
    } catch {
      return [];
    } finally {
      db?.close();
    }
  }

  /** remove deletes a node's shard file (and its WAL), or moves a damaged one aside as FILE.corrupt. */
  static remove(dir: string, node: string, opts: { keepAside?: boolean } = {}): boolean {
    const file = shardFile(dir, node);
    const existed = existsSync(file);
    if (opts.keepAside && existed) renameSync(file, `${file}.corrupt`);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    return existed;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * interrupted says whether an index run started on this shard and ended without finishing (its process is
   * gone: killed, or the machine stopped). What it committed is searchable; `meshdb reindex` completes it.
   */
  interrupted(): boolean {
    const running = this.getMeta('running');
    if (!running) return false;
    try {
      process.kill((JSON.parse(running) as { pid: number }).pid, 0);
      return false; // still running (in this process or another)
    } catch (err) {
      return (err as { code?: string }).code !== 'EPERM';
    }
  }

  /** manifest maps every known path under `root` (indexed or skipped) to its size, mtime and hash. */
  manifest(root: string): Map<string, ManifestEntry> {
    const m = new Map<string, ManifestEntry>();
    for (const r of this.db.prepare('SELECT path, size, mtime, sha256 FROM docs WHERE root = ?').iterate(root) as Iterable<{ path: string; size: number; mtime: number; sha256: string }>) m.set(r.path, { size: r.size, mtime: r.mtime, sha256: r.sha256 });
    for (const r of this.db.prepare('SELECT path, size, mtime, reason FROM skipped WHERE root = ?').iterate(root) as Iterable<{ path: string; size: number; mtime: number; reason: string }>) m.set(r.path, { size: r.size, mtime: r.mtime, skipped: r.reason });
    return m;
  }

  /** put stores a file's text (replacing an older version) and indexes it. */
  put(doc: Omit<DocRow, 'id'>): void {
    this.drop(doc.path);
    const { id } = this.#upsert.get(doc) as { id: number };
    this.#insWords.run(id);
    this.#insTri.run(id);
  }

  /** touch records a new mtime for content that did not change. */
  touch(path: string, size: number, mtime: number): void {
    this.db.prepare('UPDATE docs SET size = ?, mtime = ? WHERE path = ?').run(size, mtime, path);
  }

  /** skip records that a path is left out, and why (dropping any text it had). */
  skip(path: string, root: string, reason: string, size: number, mtime: number): void {
    this.drop(path);
    this.#skip.run(path, root, reason, size, mtime);
  }

  /** drop removes a path from the index and the manifest. */
  drop(path: string): void {
    const old = this.#byPath.get(path) as { id: number; path: string; name: string; body: string } | undefined;
    if (old) {
      this.#delWords.run(old.id, old.path, old.name, old.body);
      this.#delTri.run(old.id, old.body);
      this.#delDoc.run(old.id);
    }
    this.#unskip.run(path);
  }

  /** roots lists the roots indexed on this node. */
  roots(): Array<{ root: string; indexedAt: number | null; options: Record<string, unknown> }> {
    return (this.db.prepare('SELECT root, indexed_at AS indexedAt, options FROM roots ORDER BY root').all() as Array<{ root: string; indexedAt: number | null; options: string }>).map((r) => ({ ...r, options: JSON.parse(r.options) as Record<string, unknown> }));
  }

  setRoot(root: string, indexedAt: number | null, options: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO roots (root, indexed_at, options) VALUES (?, ?, ?) ON CONFLICT(root) DO UPDATE SET indexed_at = COALESCE(excluded.indexed_at, roots.indexed_at), options = excluded.options').run(root, indexedAt, JSON.stringify(options));
  }

  /** counts sums files and bytes, and skipped files by reason. */
  counts(): { files: number; bytes: number; skipped: Record<string, number> } {
    const d = this.db.prepare('SELECT count(*) AS files, coalesce(sum(size), 0) AS bytes FROM docs').get() as { files: number; bytes: number };
    const skipped: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT reason, count(*) AS n FROM skipped GROUP BY reason').all() as Array<{ reason: string; n: number }>) skipped[r.reason] = r.n;
    return { ...d, skipped };
  }

  /** check runs SQLite's quick integrity check and FTS5's own. */
  check(): void {
    const r = this.db.pragma('quick_check', { simple: true });
    if (r !== 'ok') throw new MeshdbError('MESHDB_CORRUPT', `the index of ${this.node} (${this.file}) is damaged (${String(r)}); run \`meshdb reindex ${this.node}\``);
  }
}
