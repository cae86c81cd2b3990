import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { createServer, Server } from 'node:https';
import { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { openVault, Vault } from '@meshpop/vault';
import { WireError } from '../errors.js';
import { logger } from '../log.js';
import { wirePaths } from '../paths.js';
import { COORDINATOR_IP, MESH_PREFIX } from '../registry/addresses.js';
import { Registry } from '../registry/registry.js';
import { WgInterface } from '../wg/iface.js';
import { genKey, publicKey as pubOf } from '../wg/keys.js';
import { PeerConfig, applyPeers, diffPeers } from '../wg/peers.js';
import { showInterface } from '../wg/show.js';
import { Api } from './api.js';
import { ensureTls } from './tls.js';
import { Relay } from './relay.js';

/** ServeOptions configure a coordinator. */
export interface ServeOptions {
  home: string;
  /** the public address (host or IP) nodes reach this coordinator at */
  endpoint: string;
  bind?: string;
  apiPort?: number;
  probePort?: number;
  wgPort?: number;
  iface?: string;
  /** how often nodes sync, in ms (default 30 s) */
  syncIntervalMs?: number;
  /** relay traffic between nodes that cannot reach each other: forwarding from the mesh interface to itself only (see Relay) */
  relay?: boolean;
}

/** Coordinator is a running `wire serve`. */
export interface Coordinator {
  url: string;
  fingerprint: string;
  publicKey: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** getOrCreate returns a secret from the vault, storing `make()` under `name` the first time. */
async function getOrCreate(vault: Vault, name: string, make: () => Promise<string>): Promise<string> {
  if (await vault.has(name)) return vault.getString(name);
  const value = await make();
  await vault.set(name, value, { tags: ['wire'] });
  return value;
}

/**
 * startCoordinator runs the mesh coordinator: the registry, the HTTPS API (8787) with its self-signed
 * certificate, the UDP probe (8788) that tells a node its public address, and a WireGuard interface of
 * its own at 10.99.0.1 whose peers follow the registry, applied as diffs.
 */
export async function startCoordinator(opts: ServeOptions): Promise<Coordinator> {
  const log = logger('wire-serve');
  const paths = wirePaths(opts.home);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const apiPort = opts.apiPort ?? 8787;
  const probePort = opts.probePort ?? 8788;
  const wgPort = opts.wgPort ?? 51820;
  const ifaceName = opts.iface ?? 'wire0';
  const syncIntervalMs = opts.syncIntervalMs ?? 30_000;

  const vault = await openVault({ home: opts.home });
  const privateKey = await getOrCreate(vault, 'wire/private-key', genKey);
  const meshMaster = Buffer.from(await getOrCreate(vault, 'wire/mesh-master', async () => randomBytes(32).toString('base64')), 'base64');
  const publicKey = await pubOf(privateKey);
  const tls = await ensureTls(paths.tlsCert, paths.tlsKey, [opts.endpoint]);
  const registry = new Registry(paths.registry);
  const url = `https://${opts.endpoint}:${apiPort}`;
  const coordinatorView = () => ({ publicKey, endpoint: `${opts.endpoint}:${wgPort}`, relays: opts.relay === true });
  // What `wire token create` and `wire config` (other processes on this machine) need to know.
  for (const [k, v] of Object.entries({ url, fingerprint: tls.fingerprint, probe_port: String(probePort), endpoint: coordinatorView().endpoint, public_key: publicKey, iface: ifaceName })) registry.setMeta(k, v);

  const iface = new WgInterface(ifaceName);
  const relay = opts.relay ? new Relay(ifaceName) : undefined;
  await relay?.check();
  const bringUp = async (): Promise<void> => {
    await iface.up({ name: ifaceName, address: `${COORDINATOR_IP}/${MESH_PREFIX}`, privateKey, listenPort: wgPort });
    // A re-created interface starts with forwarding off: the relay is applied with every bring-up.
    await relay?.apply();
    log.info({ iface: ifaceName, backend: iface.backend, meshIp: COORDINATOR_IP, relays: relay !== undefined }, 'interface up');
  };
  try {
    await bringUp();
  } catch (err) {
    await relay?.remove();
    await iface.down().catch(() => undefined);
    throw err;
  }

  const heldSyncs = new Changes(() => registry.peerVersion());
  let applied = new Map<string, PeerConfig>();
  let lastVersion = -1;
  let syncing = false;
  const syncPeers = async (force = false): Promise<void> => {
    if (syncing) return;
    syncing = true;
    try {
      const live = await showInterface(ifaceName);
      // Learn where each node's WireGuard packets come from: that is its endpoint as others can reach it.
      const seen = new Map(live.peers.filter((p) => p.endpoint && p.latestHandshake > 0).map((p) => [p.publicKey, p.endpoint!]));
      if (seen.size) registry.setEndpoints(seen);
      heldSyncs.check();
      const version = registry.dataVersion();
      if (!force && version === lastVersion && live.peers.length === applied.size) return;
      lastVersion = version;
      const next = new Map<string, PeerConfig>(
        registry.listNodes().map((n) => [n.publicKey, { publicKey: n.publicKey, allowedIps: [`${n.meshIp}/32`], endpoint: n.publicEndpoint, keepalive: null }]),
      );
      const changes = diffPeers(applied, next, live.peers);
      await applyPeers(ifaceName, changes);
      if (changes.length) log.info({ changes: changes.map((c) => (c.op === 'remove' ? `-${c.publicKey.slice(0, 8)}` : `+${c.peer.allowedIps[0]}`)) }, 'peers applied');
      applied = next;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'peer sync failed; retrying');
    } finally {
      syncing = false;
    }
  };
  await syncPeers(true);

  const api = new Api(registry, coordinatorView, meshMaster, syncIntervalMs, () => void syncPeers(true));
  const server: Server = createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.3' }, (req, res) => void serveHttp(api, req, res, heldSyncs));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new WireError('WIRE_BAD_INPUT', `cannot listen on ${opts.bind ?? '0.0.0.0'}:${apiPort} (${(err as NodeJS.ErrnoException).code}): pick another --port or --bind.`)));
      server.listen(apiPort, opts.bind ?? '0.0.0.0', () => resolve());
    });
  } catch (err) {
    // Leave nothing behind: the relay's table, the interface (and its wireguard-go), the registry.
    await relay?.remove();
    await iface.down().catch(() => undefined);
    registry.close();
    await vault.close();
    throw err;
  }

  const probe: UdpSocket = createSocket('udp4');
  probe.on('message', (msg, rinfo) => {
    if (msg.length > 512) return;
    probe.send(JSON.stringify({ address: rinfo.address, port: rinfo.port }), rinfo.port, rinfo.address);
  });
  probe.on('error', (err) => log.warn({ err: err.message }, 'probe socket error'));
  await new Promise<void>((resolve) => probe.bind(probePort, opts.bind ?? '0.0.0.0', () => resolve()));

  const ticker = setInterval(() => void syncPeers(), 1000);
  let stopped = false;
  void (async () => {
    // wireguard-go can die (killed, crashed): bring the interface back and re-apply every peer.
    for (;;) {
      await iface.exited;
      if (stopped) return;
      log.warn({ iface: ifaceName }, 'wireguard-go exited; bringing the interface back');
      try {
        await bringUp();
        applied = new Map();
        await syncPeers(true);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not bring the interface back');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  log.info({ url, fingerprint: tls.fingerprint, probePort, wgPort }, 'coordinator serving');
  return {
    url,
    fingerprint: tls.fingerprint,
    publicKey,
    close: async () => {
      stopped = true;
      clearInterval(ticker);
      heldSyncs.close();
      probe.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await relay?.remove();
      await iface.down();
      registry.close();
      await vault.close();
    },
  };
}

/** MAX_HOLD_MS is the longest a sync is held open waiting for a change (a long poll). */
const MAX_HOLD_MS = 60_000;

/**
 * Changes wakes the syncs that are held open (long polls) when the registry's peer version moves, so
 * that every node hears of a join, a removal or a new endpoint at once rather than at its next interval.
 */
class Changes {
  readonly #waiters = new Set<() => void>();
  #seen: number;
  #closed = false;

  constructor(private readonly version: () => number) {
    this.#seen = version();
  }

  /** check wakes the waiters if the version moved (also when another process changed the registry). */
  check(): void {
    const v = this.version();
    if (v !== this.#seen) {
      this.#seen = v;
      for (const w of [...this.#waiters]) w();
    }
  }

  /** until resolves once the version is past `since`, after `ms`, when `gone` aborts (the client left), or when the coordinator stops. */
  async until(since: number, ms: number, gone: AbortSignal): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.#closed && !gone.aborted && this.version() <= since && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          gone.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
        this.#waiters.add(done);
        gone.addEventListener('abort', done, { once: true });
      });
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    for (const w of [...this.#waiters]) w();
  }
}

async function serveHttp(api: Api, req: IncomingMessage, res: ServerResponse, changes: Changes): Promise<void> {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return send(413, { error: { code: 'WIRE_BAD_INPUT', message: `request body over ${MAX_BODY} bytes` } });
      chunks.push(c as Buffer);
    }
  } catch {
    return;
  }
  let body: unknown = {};
  if (size > 0) {
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { error: { code: 'WIRE_BAD_INPUT', message: 'the request body is not JSON' } });
    }
  }
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '') || null;
  const apiReq = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, body, authorization: req.headers.authorization, remoteAddr: remote };
  let r = api.handle(apiReq);
  // A sync that says which version it has (`waitSince`) is held until something changes, or `waitMs`.
  const b = body as { waitSince?: unknown; waitMs?: unknown };
  if (apiReq.path === '/v1/sync' && r.status === 200 && typeof b.waitSince === 'number' && (r.body as { version: number }).version <= b.waitSince) {
    const left = new AbortController();
    res.once('close', () => left.abort());
    await changes.until(b.waitSince, Math.min(Number(b.waitMs) || 0, MAX_HOLD_MS), left.signal);
    if (res.destroyed) return;
    // Stopping: tell the node so, rather than answer "nothing changed" (it would wait a whole interval).
    r = changes.closed ? { status: 503, body: { error: { code: 'WIRE_UNREACHABLE', message: 'the coordinator is stopping' } } } : api.replyAgain(apiReq);
  }
  send(r.status, r.body);
}
