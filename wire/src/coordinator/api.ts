import { hkdfSync } from 'node:crypto';
import { WireError } from '../errors.js';
import { isWgKey } from '../wg/keys.js';
import { COORDINATOR_IP, MESH_CIDR, isTailscaleIp } from '../registry/addresses.js';
import { NodeInfo, Registry, checkNodeName } from '../registry/registry.js';
import { CoordinatorView, PeerView, peersFor } from './peers.js';

/** ApiRequest is an HTTP request reduced to what the API reads. */
export interface ApiRequest {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
  remoteAddr: string | null;
}

/** ApiResponse is a status and a JSON body. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** SyncReply is what a node gets back from join and from every sync. */
export interface SyncReply {
  /** this node as the registry has it; `tailscaleIp` is what it last reported (null without Tailscale) */
  self: { id: string; name: string; meshIp: string; tailscaleIp: string | null };
  network: { cidr: string; coordinatorIp: string };
  coordinator: CoordinatorView;
  peers: PeerView[];
  syncIntervalMs: number;
  /** the registry's peer version this reply reflects; send it back as `waitSince` to long-poll */
  version: number;
}

/** JoinReply is a SyncReply with the node's secrets, sent once. */
export interface JoinReply extends SyncReply {
  credential: string;
  nodeSecret: string;
}

const STATUS: Partial<Record<WireError['code'], number>> = {
  WIRE_BAD_INPUT: 400,
  WIRE_BAD_TOKEN: 403,
  WIRE_TOKEN_USED: 403,
  WIRE_TOKEN_EXPIRED: 403,
  WIRE_TOKEN_NAME: 403,
  WIRE_TOKEN_REVOKED: 403,
  WIRE_UNAUTHORIZED: 401,
  WIRE_REMOVED: 410,
  WIRE_NAME_TAKEN: 409,
  WIRE_NOT_FOUND: 404,
  WIRE_ADDRESS_SPACE_FULL: 507,
};

/** nodeSecret derives a node's secret from the mesh master and its id; vssh derives its node key from it. */
export function nodeSecret(meshMaster: Uint8Array, nodeId: string): string {
  return Buffer.from(hkdfSync('sha256', meshMaster, new Uint8Array(0), `meshpop-wire node-secret ${nodeId}`, 32)).toString('base64');
}

function readInfo(body: Record<string, unknown>, remoteAddr: string | null): NodeInfo {
  const port = Number(body.listenPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new WireError('WIRE_BAD_INPUT', 'listenPort must be a port number');
  const lan = Array.isArray(body.lanAddrs) ? body.lanAddrs.filter((a): a is string => typeof a === 'string' && /^[0-9a-f.:]{2,45}$/i.test(a)).slice(0, 16) : [];
  const ts = isTailscaleIp(body.tailscaleIp) ? body.tailscaleIp : null;
  return { listenPort: port, lanAddrs: lan, tailscaleIp: ts, behindNat: body.behindNat === true, remoteAddr };
}

/**
 * Api answers the coordinator's HTTPS requests: POST /v1/join (a token buys an identity) and
 * POST /v1/sync (a node, by its credential, reports itself and gets its peers). Expected failures
 * come back as `{error: {code, message}}` with a fitting status, never as a crash.
 */
export class Api {
  constructor(
    private readonly registry: Registry,
    private readonly coordinator: () => CoordinatorView,
    private readonly meshMaster: Uint8Array,
    private readonly syncIntervalMs: number,
    private readonly onChange: () => void,
  ) {}

  handle(req: ApiRequest): ApiResponse {
    try {
      if (req.method === 'POST' && req.path === '/v1/join') return { status: 200, body: this.#join(req) };
      if (req.method === 'POST' && req.path === '/v1/sync') return { status: 200, body: this.#sync(req) };
      if (req.method === 'GET' && req.path === '/v1/health') return { status: 200, body: { ok: true } };
      return { status: 404, body: { error: { code: 'WIRE_NOT_FOUND', message: `no such endpoint: ${req.method} ${req.path.slice(0, 60)}` } } };
    } catch (err) {
      if (err instanceof WireError) return { status: STATUS[err.code] ?? 500, body: { error: { code: err.code, message: err.message } } };
      return { status: 500, body: { error: { code: 'WIRE_PROTOCOL', message: 'the coordinator failed on this request' } } };
    }
  }

  #reply(nodeId: string): SyncReply {
    const nodes = this.registry.listNodes();
    const self = nodes.find((n) => n.id === nodeId)!;
    return {
      self: { id: self.id, name: self.name, meshIp: self.meshIp, tailscaleIp: self.tailscaleIp },
      network: { cidr: MESH_CIDR, coordinatorIp: COORDINATOR_IP },
      coordinator: this.coordinator(),
      peers: peersFor(self, nodes, this.coordinator()),
      syncIntervalMs: this.syncIntervalMs,
      version: this.registry.peerVersion(),
    };
  }

  #join(req: ApiRequest): JoinReply {
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const token = b.token as { id?: unknown; secret?: unknown } | undefined;
    if (!token || typeof token.id !== 'string' || typeof token.secret !== 'string') throw new WireError('WIRE_BAD_TOKEN', 'the join request carries no token.');
    const name = checkNodeName(String(b.name ?? ''));
    const publicKey = String(b.publicKey ?? '');
    if (!isWgKey(publicKey)) throw new WireError('WIRE_BAD_INPUT', 'publicKey is not a WireGuard public key');
    const { node, credential } = this.registry.join({ id: token.id, secret: token.secret }, name, publicKey, readInfo(b, req.remoteAddr));
    this.onChange();
    return { ...this.#reply(node.id), credential, nodeSecret: nodeSecret(this.meshMaster, node.id) };
  }

  /**
   * replyAgain answers a held sync (a long poll) once the peer version moved: the same node, its
   * credential checked again (it may have been removed meanwhile), no new heartbeat.
   */
  replyAgain(req: ApiRequest): ApiResponse {
    try {
      return { status: 200, body: this.#reply(this.#auth(req).id) };
    } catch (err) {
      if (err instanceof WireError) return { status: STATUS[err.code] ?? 500, body: { error: { code: err.code, message: err.message } } };
      return { status: 500, body: { error: { code: 'WIRE_PROTOCOL', message: 'the coordinator failed on this request' } } };
    }
  }

  #auth(req: ApiRequest) {
    const m = /^Bearer ([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(req.authorization ?? '');
    if (!m) throw new WireError('WIRE_UNAUTHORIZED', 'a sync needs the node credential it got at join.');
    return this.registry.authenticate(m[1]!, m[2]!);
  }

  #sync(req: ApiRequest): SyncReply {
    const node = this.#auth(req);
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    this.registry.heartbeat(node.id, readInfo(b, req.remoteAddr));
    return this.#reply(node.id);
  }
}
