import Database from 'better-sqlite3';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { WireError } from '../errors.js';
import { COORDINATOR_INDEX, LAST_INDEX, meshIp } from './addresses.js';
import { MAX_TOKEN_TTL_MS } from '../token.js';

/** OFFLINE_AFTER_MS: a node not heard from for this long is offline. */
export const OFFLINE_AFTER_MS = 300_000;

/** NodeRecord is one node of the mesh as the coordinator knows it. */
export interface NodeRecord {
  id: string;
  name: string;
  publicKey: string;
  meshIp: string;
  /** the node's WireGuard endpoint as the coordinator sees it (ip:port), when known */
  publicEndpoint: string | null;
  /** the node's own addresses on its LANs (ip only) */
  lanAddrs: string[];
  listenPort: number;
  tailscaleIp: string | null;
  behindNat: boolean;
  created: number;
  lastSeen: number | null;
  removedAt: number | null;
  status: 'online' | 'offline' | 'removed';
}

/** NodeInfo is what a node reports of itself at join and on every sync. */
export interface NodeInfo {
  listenPort: number;
  lanAddrs: string[];
  tailscaleIp: string | null;
  behindNat: boolean;
  /** the address the coordinator saw the request come from */
  remoteAddr: string | null;
}

/** TokenRecord describes a join token (never its secret). */
export interface TokenRecord {
  id: string;
  name: string;
  created: number;
  expires: number;
  usedAt: number | null;
  usedBy: string | null;
  /** when `wire token revoke` revoked it, or null */
  revokedAt: number | null;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  public_key TEXT NOT NULL,
  ip_index INTEGER NOT NULL UNIQUE,
  public_endpoint TEXT,
  lan_addrs TEXT NOT NULL DEFAULT '[]',
  listen_port INTEGER NOT NULL,
  tailscale_ip TEXT,
  behind_nat INTEGER NOT NULL DEFAULT 0,
  credential_hash BLOB NOT NULL,
  created INTEGER NOT NULL,
  last_seen INTEGER,
  removed_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS nodes_live_name ON nodes(name) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS nodes_live_key ON nodes(public_key) WHERE removed_at IS NULL;
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash BLOB NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  used_at INTEGER,
  used_by TEXT
);
`;

interface NodeRow {
  id: string;
  name: string;
  public_key: string;
  ip_index: number;
  public_endpoint: string | null;
  lan_addrs: string;
  listen_port: number;
  tailscale_ip: string | null;
  behind_nat: number;
  created: number;
  last_seen: number | null;
  removed_at: number | null;
}

function toRecord(r: NodeRow, now: number): NodeRecord {
  return {
    id: r.id,
    name: r.name,
    publicKey: r.public_key,
    meshIp: meshIp(r.ip_index),
    publicEndpoint: r.public_endpoint,
    lanAddrs: JSON.parse(r.lan_addrs) as string[],
    listenPort: r.listen_port,
    tailscaleIp: r.tailscale_ip,
    behindNat: r.behind_nat === 1,
    created: r.created,
    lastSeen: r.last_seen,
    removedAt: r.removed_at,
    status: r.removed_at !== null ? 'removed' : r.last_seen !== null && now - r.last_seen < OFFLINE_AFTER_MS ? 'online' : 'offline',
  };
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** checkNodeName throws unless `name` is a node name: lowercase letters, digits and dashes, up to 63. */
export function checkNodeName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new WireError('WIRE_BAD_INPUT', `"${name.slice(0, 70)}" is not a node name: use lowercase letters, digits and dashes (a DNS label), at most 63 characters.`);
  }
  return name;
}

/**
 * Registry is the coordinator's SQLite database of nodes and join tokens. Every change is one
 * transaction; mesh addresses come from a counter that only grows, so an address is never reused.
 */
export class Registry {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Registries made before tokens could be revoked.
    if (!(this.db.pragma('table_info(tokens)') as { name: string }[]).some((c) => c.name === 'revoked_at')) this.db.exec('ALTER TABLE tokens ADD COLUMN revoked_at INTEGER');
    this.db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('next_ip_index', ?)`).run(String(COORDINATOR_INDEX + 1));
    this.db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('peer_version', '0')`).run();
  }

  /**
   * peerVersion counts the changes that alter some node's peer list (a join, a removal, a new endpoint or
   * address); nodes long-poll on it, so they hear of a change at once.
   */
  peerVersion(): number {
    return Number(this.getMeta('peer_version') ?? 0);
  }

  #bump(): void {
    this.db.prepare(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'peer_version'`).run();
  }

  close(): void {
    this.db.close();
  }

  /** dataVersion changes whenever another connection (another process) changed the database. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** createToken makes a single-use join token for `name`, valid for `ttlMs`; the secret is returned once. */
  createToken(name: string, ttlMs: number, now = Date.now()): { id: string; secret: string; expires: number } {
    checkNodeName(name);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TOKEN_TTL_MS) throw new WireError('WIRE_BAD_INPUT', 'a token needs a TTL above 0 and at most 90 days.');
    if (this.findNode(name)) throw new WireError('WIRE_NAME_TAKEN', `a node named ${name} is already in the mesh; \`wire remove ${name}\` first, or pick another name.`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    this.db.prepare('INSERT INTO tokens (id, name, secret_hash, created, expires) VALUES (?, ?, ?, ?, ?)').run(id, name, sha256(secret), now, now + ttlMs);
    return { id, secret, expires: now + ttlMs };
  }

  /** listTokens describes every token, newest first. */
  listTokens(): TokenRecord[] {
    return (this.db.prepare('SELECT id, name, created, expires, used_at, used_by, revoked_at FROM tokens ORDER BY created DESC').all() as {
      id: string; name: string; created: number; expires: number; used_at: number | null; used_by: string | null; revoked_at: number | null;
    }[]).map((t) => ({ id: t.id, name: t.name, created: t.created, expires: t.expires, usedAt: t.used_at, usedBy: t.used_by, revokedAt: t.revoked_at }));
  }

  /**
   * revokeTokens revokes the unused tokens with this id, or every unused token for this node name, so
   * they can no longer join; returns the ids revoked, or throws WIRE_NOT_FOUND when none matched.
   */
  revokeTokens(idOrName: string, now = Date.now()): string[] {
    return this.db.transaction(() => {
      const ids = (this.db.prepare('SELECT id FROM tokens WHERE (id = ? OR name = ?) AND used_at IS NULL AND revoked_at IS NULL').all(idOrName, idOrName) as { id: string }[]).map((r) => r.id);
      if (!ids.length) throw new WireError('WIRE_NOT_FOUND', `no unused token with id or node name ${idOrName.slice(0, 70)}; \`wire token list\` lists them.`);
      const stmt = this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?');
      for (const id of ids) stmt.run(now, id);
      return ids;
    })();
  }

  /**
   * join spends a token and enrolls a node in one transaction. A forged, reused, expired or
   * wrong-name token is refused and nothing changes. Returns the node and its credential (once).
   */
  join(token: { id: string; secret: string }, name: string, publicKey: string, info: NodeInfo, now = Date.now()): { node: NodeRecord; credential: string } {
    return this.db.transaction(() => {
      const t = this.db.prepare('SELECT name, secret_hash, expires, used_at, revoked_at FROM tokens WHERE id = ?').get(token.id) as
        | { name: string; secret_hash: Buffer; expires: number; used_at: number | null; revoked_at: number | null }
        | undefined;
      const given = sha256(token.secret);
      if (!t || !timingSafeEqual(given, t.secret_hash)) throw new WireError('WIRE_BAD_TOKEN', 'this join token is not valid here (forged, mistyped, or from another coordinator); ask for a new one with `wire token create`.');
      if (t.revoked_at !== null) throw new WireError('WIRE_TOKEN_REVOKED', 'this join token was revoked (`wire token revoke`); ask for a new one with `wire token create`.');
      if (t.used_at !== null) throw new WireError('WIRE_TOKEN_USED', 'this join token was already used; tokens are single-use: make a new one with `wire token create`.');
      if (now > t.expires) throw new WireError('WIRE_TOKEN_EXPIRED', `this join token expired at ${new Date(t.expires).toISOString()}; make a new one with \`wire token create\`.`);
      if (t.name !== name) throw new WireError('WIRE_TOKEN_NAME', `this join token is for a node named ${t.name}, not ${name}.`);
      if (this.findNode(name)) throw new WireError('WIRE_NAME_TAKEN', `a node named ${name} is already in the mesh.`);
      if (this.db.prepare('SELECT 1 FROM nodes WHERE public_key = ? AND removed_at IS NULL').get(publicKey)) {
        throw new WireError('WIRE_BAD_INPUT', 'that WireGuard public key already belongs to a node of the mesh.');
      }
      const index = Number(this.getMeta('next_ip_index'));
      if (index > LAST_INDEX) throw new WireError('WIRE_ADDRESS_SPACE_FULL', 'every address of 10.99.0.0/16 has been given out.');
      this.setMeta('next_ip_index', String(index + 1));
      const id = randomUUID();
      const credential = randomBytes(32).toString('base64url');
      this.db
        .prepare(
          `INSERT INTO nodes (id, name, public_key, ip_index, public_endpoint, lan_addrs, listen_port, tailscale_ip, behind_nat, credential_hash, created, last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, name, publicKey, index, info.remoteAddr ? `${info.remoteAddr}:${info.listenPort}` : null, JSON.stringify(info.lanAddrs), info.listenPort, info.tailscaleIp, info.behindNat ? 1 : 0, sha256(credential), now, now);
      this.db.prepare('UPDATE tokens SET used_at = ?, used_by = ? WHERE id = ?').run(now, id, token.id);
      this.#bump();
      return { node: this.getNodeById(id)!, credential };
    })();
  }

  /** authenticate returns the node a credential belongs to, or throws WIRE_UNAUTHORIZED / WIRE_REMOVED. */
  authenticate(nodeId: string, credential: string): NodeRecord {
    const row = this.db.prepare('SELECT credential_hash, removed_at FROM nodes WHERE id = ?').get(nodeId) as { credential_hash: Buffer; removed_at: number | null } | undefined;
    if (!row || !timingSafeEqual(sha256(credential), row.credential_hash)) throw new WireError('WIRE_UNAUTHORIZED', 'the coordinator does not know this node\'s credential; join again with a new token.');
    if (row.removed_at !== null) throw new WireError('WIRE_REMOVED', 'this node was removed from the mesh (`wire remove`); join again with a new token.');
    return this.getNodeById(nodeId)!;
  }

  /** heartbeat records what a node says of itself and that it was seen now. */
  heartbeat(nodeId: string, info: NodeInfo, now = Date.now()): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE nodes SET last_seen = ? WHERE id = ?').run(now, nodeId);
      const changed = this.db
        .prepare(
          `UPDATE nodes SET listen_port = ?, lan_addrs = ?, tailscale_ip = ?, behind_nat = ?, public_endpoint = COALESCE(public_endpoint, ?)
           WHERE id = ? AND (listen_port IS NOT ? OR lan_addrs IS NOT ? OR tailscale_ip IS NOT ? OR behind_nat IS NOT ? OR public_endpoint IS NULL)`,
        )
        .run(info.listenPort, JSON.stringify(info.lanAddrs), info.tailscaleIp, info.behindNat ? 1 : 0, info.remoteAddr ? `${info.remoteAddr}:${info.listenPort}` : null,
          nodeId, info.listenPort, JSON.stringify(info.lanAddrs), info.tailscaleIp, info.behindNat ? 1 : 0).changes;
      if (changed) this.#bump();
    })();
  }

  /** setEndpoints records the endpoints the coordinator's own WireGuard saw for nodes (by public key). */
  setEndpoints(endpoints: Map<string, string>): void {
    const stmt = this.db.prepare('UPDATE nodes SET public_endpoint = ? WHERE public_key = ? AND removed_at IS NULL AND (public_endpoint IS NULL OR public_endpoint != ?)');
    this.db.transaction(() => {
      let changed = 0;
      for (const [key, ep] of endpoints) changed += stmt.run(ep, key, ep).changes;
      if (changed) this.#bump();
    })();
  }

  getNodeById(id: string, now = Date.now()): NodeRecord | undefined {
    const r = this.db.prepare('SELECT * FROM nodes WHERE id = ?').get(id) as NodeRow | undefined;
    return r && toRecord(r, now);
  }

  /** findNode returns the live node of this name (or id), if any. */
  findNode(nameOrId: string, now = Date.now()): NodeRecord | undefined {
    const r = this.db.prepare('SELECT * FROM nodes WHERE (name = ? OR id = ?) AND removed_at IS NULL').get(nameOrId, nameOrId) as NodeRow | undefined;
    return r && toRecord(r, now);
  }

  /** listNodes returns the live nodes (and the removed ones when asked), in address order. */
  listNodes(opts: { includeRemoved?: boolean } = {}, now = Date.now()): NodeRecord[] {
    const rows = this.db.prepare(`SELECT * FROM nodes ${opts.includeRemoved ? '' : 'WHERE removed_at IS NULL'} ORDER BY ip_index`).all() as NodeRow[];
    return rows.map((r) => toRecord(r, now));
  }

  /** removeNode revokes a node: its credential stops working and every peer drops it at its next sync. */
  removeNode(nameOrId: string, now = Date.now()): NodeRecord {
    const node = this.findNode(nameOrId);
    if (!node) throw new WireError('WIRE_NOT_FOUND', `no node named ${nameOrId} in the mesh; \`wire peers\` lists them.`);
    this.db.transaction(() => {
      this.db.prepare('UPDATE nodes SET removed_at = ? WHERE id = ?').run(now, node.id);
      this.#bump();
    })();
    return { ...node, removedAt: now, status: 'removed' };
  }
}
