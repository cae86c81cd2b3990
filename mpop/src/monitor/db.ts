import { existsSync, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MpopError } from '../errors.js';

/** MonitorDb is an open monitor.db (better-sqlite3, WAL). */
export type MonitorDb = Database.Database;

/** SCHEMA_VERSION is the monitor.db layout this code writes; an older file is migrated, a newer one refused. */
export const SCHEMA_VERSION = 1;

/**
 * SCHEMA: `samples` holds one row per node per sample (res 0) or per bucket (res = bucket seconds, n
 * samples averaged, up_n of them up); `disks` the same per mount; `alerts` every alert, firing
 * (resolved_at null) or resolved, kept as history. Metrics are null when a node was down or did not say.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  node TEXT NOT NULL, t INTEGER NOT NULL, res INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 1, up_n INTEGER NOT NULL,
  cpu REAL, load1 REAL, load5 REAL, load15 REAL, cores INTEGER,
  mem_total REAL, mem_used REAL, mem_avail REAL, swap_total REAL, swap_used REAL,
  net_rx REAL, net_tx REAL, rtt_ms REAL, error TEXT
);
CREATE INDEX IF NOT EXISTS samples_node_t ON samples (node, t);
CREATE INDEX IF NOT EXISTS samples_res_t ON samples (res, t);
CREATE TABLE IF NOT EXISTS disks (
  node TEXT NOT NULL, t INTEGER NOT NULL, res INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL DEFAULT 1, mount TEXT NOT NULL,
  use_pct REAL, used REAL, total REAL, inodes_pct REAL
);
CREATE INDEX IF NOT EXISTS disks_node_t ON disks (node, t);
CREATE INDEX IF NOT EXISTS disks_res_t ON disks (res, t);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY, node TEXT NOT NULL, rule TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',
  since INTEGER NOT NULL, resolved_at INTEGER, value REAL, threshold REAL, message TEXT NOT NULL, updated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (node, rule, subject) WHERE resolved_at IS NULL;
`;

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * openMonitorDb opens (creating when absent, with `create`) the monitor's SQLite file in WAL mode and
 * checks its schema version. A file that is not an intact monitor.db is MPOP_MONITOR, and is left untouched.
 */
export function openMonitorDb(file: string, opts: { create?: boolean; readonly?: boolean } = {}): MonitorDb {
  const exists = existsSync(file);
  if (!exists && !opts.create) throw new MpopError('MPOP_MONITOR', `no monitor history yet (${file} does not exist): run mpop monitor --once, or mpop install-service monitor.`);
  if (exists) checkHeader(file);
  if (!exists) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: MonitorDb | undefined;
  try {
    db = new Database(file, { readonly: opts.readonly === true && exists, fileMustExist: exists });
    db.pragma('busy_timeout = 5000');
    const quick = db.pragma('quick_check', { simple: true });
    if (quick !== 'ok') throw Object.assign(new Error(String(quick)), { code: 'SQLITE_CORRUPT' });
    migrate(db, file);
    if (!db.readonly) db.pragma('journal_mode = WAL');
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof MpopError) throw err;
    const code = String((err as { code?: unknown }).code ?? '');
    if (code && !/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
      // Not the file's fault (a full or read-only disk, a lock held too long): say so, and do not suggest moving it.
      throw new MpopError('MPOP_MONITOR', `cannot open ${file}: ${(err as Error).message} (${code}); is its disk full or read-only, or another process holding it? The file was left as it is.`, { cause: err });
    }
    throw new MpopError('MPOP_MONITOR', `${file} is damaged (${(err as Error).message}); it was left as it is: move it aside (mv ${file} ${file}.broken) and mpop monitor starts a new one.`, { cause: err });
  }
}

/** checkHeader refuses a file that does not start like a SQLite database (a truncated or foreign file). */
function checkHeader(file: string): void {
  const size = statSync(file).size;
  if (size === 0) return; // an empty file is a new database to SQLite
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(100);
  const got = readSync(fd, head, 0, 100, 0);
  closeSync(fd);
  if (got < 100 || head.subarray(0, 16).toString('latin1') !== SQLITE_MAGIC) {
    throw new MpopError('MPOP_MONITOR', `${file} is not a SQLite database (${got < 100 ? `only ${size} bytes: truncated` : 'wrong header'}); it was left as it is: move it aside (mv ${file} ${file}.broken) and mpop monitor starts a new one.`);
  }
}

/** migrate creates the tables of a new file and refuses a file written by a newer mpop. */
function migrate(db: MonitorDb, file: string): void {
  const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  const version = has ? (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v : null;
  if (version !== null && version > SCHEMA_VERSION) {
    throw new MpopError('MPOP_MONITOR', `${file} has schema version ${version}, newer than this mpop's ${SCHEMA_VERSION}: upgrade mpop.`);
  }
  if (version === SCHEMA_VERSION) return;
  if (db.readonly) throw new MpopError('MPOP_MONITOR', `${file} has no monitor schema yet: run mpop monitor --once first.`);
  if (version === null) {
    const tables = db.prepare("SELECT count(*) AS c FROM sqlite_master WHERE type = 'table'").get() as { c: number };
    if (tables.c > 0) throw new MpopError('MPOP_MONITOR', `${file} is a SQLite database but not mpop's monitor.db (it has other tables); it was left as it is.`);
  }
  if (!db.readonly) db.pragma('journal_mode = WAL');
  db.transaction(() => {
    db.exec(SCHEMA);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  }).immediate(); // take the write lock first: two writers wait (busy_timeout) instead of failing
}
