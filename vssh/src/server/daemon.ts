import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { VsshError } from '../errors.js';
import { MAX_STREAMS, Mux, SOCKET_BUFFER, Stream } from '../protocol/conn.js';
import { NonceWindow, signReply, verifyRequest } from '../protocol/auth.js';
import { DEFAULT_PORT } from '../paths.js';
import { Logger, silentLogger } from '../log.js';
import { Policy } from './policy.js';
import { HANDLERS } from './verbs.js';

/** FIRST_REQUEST_MS is how long a connection may stay open without one authenticated request. */
export const FIRST_REQUEST_MS = 10_000;
/** MAX_CONNECTIONS is how many connections one listener accepts at once. */
export const MAX_CONNECTIONS = 1024;

/** DaemonOptions configure one vssh daemon. */
export interface DaemonOptions {
  /** this node's key (a daemon holds only its own) */
  key: Uint8Array;
  /** the node's name, reported by `hello` */
  name?: string;
  /**
   * addresses to listen on (default 127.0.0.1), each plain or TLS 1.3 on its own: a bare host is TLS when
   * `tls` is given and plain otherwise; `{host, tls}` chooses for that address (so one daemon serves its
   * mesh address plain and its Tailscale or public address with TLS)
   */
  hosts?: (string | Listener)[];
  /** TCP port (default 48291; 0 picks a free one) */
  port?: number;
  /** certificate and key (PEM) of the TLS listeners */
  tls?: { cert: string; key: string };
  policy?: Policy;
  log?: Logger;
  /** requests one connection may have open at once (default MAX_STREAMS) */
  maxStreams?: number;
}

/** Listener is one address a daemon listens on, plain or with TLS 1.3. */
export interface Listener {
  host: string;
  tls: boolean;
}

/** Daemon is a running `vssh serve`. */
export interface Daemon {
  /** where it listens, one entry per address */
  readonly addresses: { host: string; port: number; tls: boolean }[];
  readonly port: number;
  /** SHA-256 fingerprint of the TLS certificate, when TLS is on */
  readonly fingerprint: string | undefined;
  /** connections open now */
  readonly connections: number;
  /** close stops listening, cancels every running request (killing its processes) and drops every connection. */
  close(): Promise<void>;
}

/** RequestContext is what a verb's handler gets: its verified arguments, its stream, and a signal for cancel. */
export interface RequestContext {
  args: Record<string, unknown>;
  stream: Stream;
  policy: Policy;
  /** aborted when the client cancels, the connection drops or the daemon stops */
  signal: AbortSignal;
  log: Logger;
  node: { name: string; fingerprint: string | undefined };
}

/** Handler serves one verb and returns its result, which goes back signed in the REPLY. */
export type Handler = (ctx: RequestContext) => Promise<Record<string, unknown>>;

/**
 * startDaemon listens for vssh connections. Each request is authenticated (auth.ts), checked against the
 * policy by its handler, logged (who, verb, result, duration; never contents), and answered with a signed
 * reply. Bad input of any kind ends at most its own stream or connection, never the daemon.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const log = opts.log ?? silentLogger();
  const policy = opts.policy ?? Policy.open;
  const window = new NonceWindow();
  const muxes = new Set<Mux>();
  const running = new Set<AbortController>();
  const fingerprint = opts.tls ? new X509Certificate(opts.tls.cert).fingerprint256 : undefined;
  const node = { name: opts.name ?? 'node', fingerprint };

  const unproven = new Map<Mux, NodeJS.Timeout>();
  /** authenticated marks a connection that has sent a request with a valid MAC: it may stay open. */
  const authenticated = (mux: Mux): void => {
    clearTimeout(unproven.get(mux));
    unproven.delete(mux);
  };
  const onConnection = (socket: Socket): void => {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const mux: Mux = new Mux(socket, (stream, header) => void serveRequest(stream, header, peer, mux));
    muxes.add(mux);
    // A connection that has not sent one authenticated request within FIRST_REQUEST_MS is dropped.
    unproven.set(mux, setTimeout(() => mux.close(new VsshError('VSSH_AUTH_MALFORMED', `no authenticated request within ${FIRST_REQUEST_MS / 1000} s`)), FIRST_REQUEST_MS).unref());
    mux.on('close', () => authenticated(mux));
    mux.on('close', (err: VsshError) => {
      muxes.delete(mux);
      if (err.code !== 'VSSH_CONNECTION_LOST') log.warn({ peer, code: err.code, err: err.message }, 'connection dropped');
    });
  };

  async function serveRequest(stream: Stream, header: Record<string, unknown>, peer: string, mux: Mux): Promise<void> {
    const started = performance.now();
    let verb = typeof header.verb === 'string' ? header.verb.slice(0, 32) : '?';
    let nonce = '';
    const ac = new AbortController();
    stream.onReset((err) => ac.abort(err));
    running.add(ac);
    try {
      const auth = verifyRequest(opts.key, header, new Uint8Array(0), window);
      verb = auth.verb;
      nonce = auth.nonce;
      authenticated(mux);
      const max = opts.maxStreams ?? MAX_STREAMS;
      if (mux.streams > max) throw new VsshError('VSSH_BUSY', `this connection already has ${max} requests in flight; wait for some to finish.`);
      const handler = Object.hasOwn(HANDLERS, auth.verb) ? HANDLERS[auth.verb] : undefined;
      if (!handler) throw new VsshError('VSSH_UNKNOWN_VERB', `this node does not know the request "${auth.verb}" (a newer client?); run the same vssh version on both ends.`);
      const result = await handler({ args: auth.args, stream, policy, signal: ac.signal, log, node });
      stream.reply({ result, mac: signReply(opts.key, nonce, { result }) });
      log.info({ peer, verb, summary: summarize(auth.args), ok: true, ms: Math.round(performance.now() - started) }, 'request');
    } catch (err) {
      const e = err instanceof VsshError ? err : new VsshError('VSSH_INTERNAL', `the node failed to serve the request: ${(err as Error)?.message ?? String(err)}`);
      const error = { code: e.code, message: e.message };
      // Only an answer to an authenticated request is signed: signing a refusal over a nonce nobody
      // vouched for would let a man in the middle present it as the node's answer to another request.
      // A client reads unsigned refusals of authentication as such (VSSH_AUTH_*).
      stream.reply({ error, mac: nonce ? signReply(opts.key, nonce, { error }) : '' });
      const level = e.code === 'VSSH_INTERNAL' ? 'error' : e.code.startsWith('VSSH_AUTH') ? 'warn' : 'info';
      log[level]({ peer, verb, ok: false, code: e.code, ms: Math.round(performance.now() - started) }, 'request refused or failed');
    } finally {
      running.delete(ac);
    }
  }

  const listeners: Listener[] = (opts.hosts?.length ? opts.hosts : ['127.0.0.1']).map((h) => (typeof h === 'string' ? { host: h, tls: !!opts.tls } : h));
  const bare = listeners.find((l) => l.tls && !opts.tls);
  if (bare) throw new VsshError('VSSH_BAD_INPUT', `${bare.host} is to listen with TLS, but the daemon was given no certificate`);
  const servers: Server[] = [];
  const addresses: { host: string; port: number; tls: boolean }[] = [];
  let port = opts.port ?? DEFAULT_PORT;
  for (const { host, tls } of listeners) {
    const server = tls && opts.tls
      ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.3', highWaterMark: SOCKET_BUFFER }, (s) => onConnection(s))
      : createServer({ highWaterMark: SOCKET_BUFFER }, (s) => onConnection(s));
    server.maxConnections = MAX_CONNECTIONS;
    server.on('tlsClientError', (err) => log.warn({ err: err.message }, 'TLS handshake refused'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new VsshError('VSSH_BUSY', `port ${port} on ${host} is already in use (another vssh serve?); stop it or pick --port.`)
            : err.code === 'EADDRNOTAVAIL'
              ? new VsshError('VSSH_BAD_INPUT', `${host} is not an address of this machine; check --bind (is the mesh up?).`)
              : err,
        ),
      );
      server.listen(port, host, () => resolve());
    }).catch((err) => {
      for (const s of servers) s.close(); // the addresses already bound are given back
      throw err;
    });
    server.on('error', (err) => log.error({ err: err.message }, 'listener error'));
    const bound = server.address();
    if (bound && typeof bound === 'object') {
      port = bound.port; // every further address uses the same port
      addresses.push({ host, port, tls });
    }
    servers.push(server);
  }
  log.info({ addresses, policy: policy.describe() }, 'vssh daemon listening');

  return {
    addresses,
    port,
    fingerprint,
    get connections() {
      return muxes.size;
    },
    async close() {
      for (const s of servers) s.close(); // stop accepting
      for (const ac of running) ac.abort(new VsshError('VSSH_CANCELLED', 'the daemon is stopping'));
      await new Promise((r) => setTimeout(r, 50)); // let cancelled requests answer
      for (const m of muxes) m.close();
    },
  };
}

/** summarize keeps what a log may say of a request's arguments: paths and the program name, never values. */
function summarize(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['path', 'dest', 'host', 'port']) if (typeof args[k] === 'string' || typeof args[k] === 'number') out[k] = args[k];
  if (Array.isArray(args.argv) && typeof args.argv[0] === 'string') out.program = args.argv[0];
  if (typeof args.shell === 'string') out.program = '(shell)';
  return out;
}
