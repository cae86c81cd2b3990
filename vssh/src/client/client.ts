import { createHash } from 'node:crypto';
import { connect as netConnect, createServer, Server, Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { basename, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { VsshError } from '../errors.js';
import { Channel, Mux, SOCKET_BUFFER } from '../protocol/conn.js';
import type { ExecResult } from '../server/exec.js';
import type { FileInfo } from '../server/files.js';
import type { SysInfo } from '../server/sysinfo.js';
import { Filter, FilterRule } from '../transfer/filter.js';
import { Planned, planPut, wouldSend } from '../transfer/plan.js';
import { readNeeds, sendFiles, sendManifest, SendStats } from '../transfer/send.js';
import { receiveTree, ReceiveStats } from '../transfer/receive.js';
import { canonicalJson } from '../protocol/auth.js';
import { Call } from './call.js';
import { Address, NodeTarget } from './resolve.js';

/** ClientOptions tune how a client reaches its node. */
export interface ClientOptions {
  /** per-address limit on connecting and the node's signed hello (default 3 s); past it, the next address is tried */
  connectTimeoutMs?: number;
  /** further rounds over all addresses after the first fails, with jittered backoff (default 2) */
  retries?: number;
}

/** ExecOptions shape one remote command. */
export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  maxOutputBytes?: number;
  /** bytes for the command's stdin (a stream is copied until it ends) */
  stdin?: Readable | Buffer | string;
  /** called with output as it arrives; without them, output is collected into the result */
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
  signal?: AbortSignal;
}

/** ExecOutcome is an exec's signed result and, when collected, its output. */
export interface ExecOutcome extends ExecResult {
  stdout: Buffer;
  stderr: Buffer;
}

/** TransferOptions shape put, get and sync. */
export interface TransferOptions {
  delete?: boolean;
  checksum?: boolean;
  /** put and sync: --exclude / --include rules, in order (the first that matches a path decides) */
  filter?: FilterRule[];
  /** put and sync: say what would cross and what would be deleted; nothing is written on the node */
  dryRun?: boolean;
  /** get: keep the setuid and setgid bits the node's files have (cleared by default) */
  keepSetid?: boolean;
  onBytes?: (n: number) => void;
}

/** DryRunReport is what a dry run found: the files that would cross (with sizes), and what would be deleted. */
export interface DryRunReport {
  send: Planned[];
  /** bytes that would cross */
  bytes: number;
  unchanged: number;
  /** the paths that would be deleted (the first MAX_LISTED; `deleted` counts them all); folders end in `/` */
  delete: string[];
  deleted: number;
}

/** PutResult is what put and sync did (or, with dryRun, would do). */
export interface PutResult {
  sent: SendStats;
  received: ReceiveStats;
  /** how many local paths the filter left out */
  excluded: number;
  dryRun?: DryRunReport;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** backoff is the wait before retry `n` (from 0): 200 ms doubling, capped at 5 s, with +-50% jitter. */
export const backoff = (n: number): number => Math.min(5000, 200 * 2 ** n) * (0.5 + Math.random());

/**
 * VsshClient talks to one node over one multiplexed connection, opened on first use and reopened (with
 * jittered backoff) after it drops. It tries the node's addresses in order: Wire IP, Tailscale IP, then
 * the public address, the last two with TLS 1.3 pinned to the node's key.
 */
export class VsshClient {
  #mux: Mux | undefined;
  #connecting: Promise<Mux> | undefined;
  #address: Address | undefined;

  constructor(readonly target: NodeTarget, private readonly key: Uint8Array, private readonly opts: ClientOptions = {}) {}

  /** connected tells whether the client holds an open connection now. */
  get connected(): boolean {
    return !!this.#mux && !this.#mux.closed;
  }

  /** address is the address in use (after the first call). */
  get address(): Address | undefined {
    return this.#address;
  }

  /** call sends a signed request and returns it, for streaming verbs. */
  async call(verb: string, args: Record<string, unknown>): Promise<Call> {
    return new Call(await this.#connection(), this.key, this.target.name, verb, args);
  }

  /** request sends a request and returns its verified result. */
  async request<T = Record<string, unknown>>(verb: string, args: Record<string, unknown> = {}): Promise<T> {
    return (await (await this.call(verb, args)).result()) as T;
  }

  hello(): Promise<{ name: string; host: string; version: string; time: number; tlsFingerprint: string | null; policy: string[] }> {
    return this.request('hello');
  }

  sysinfo(): Promise<SysInfo> {
    return this.request('sysinfo');
  }

  stat(path: string, opts: { hash?: boolean } = {}): Promise<FileInfo> {
    return this.request('stat', { path, hash: opts.hash });
  }

  /** list lists a remote folder (or one file), checking the batches against the node's signed hash. */
  async list(path: string, opts: { recursive?: boolean; hash?: boolean; limit?: number } = {}): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    const call = await this.call('list', { path, ...opts });
    const entries: FileInfo[] = [];
    const hash = createHash('sha256');
    for (let item = await call.next(); item; item = await call.next()) {
      if (item.kind === 'msg' && Array.isArray(item.body.entries)) {
        hash.update(canonicalJson(item.body.entries));
        entries.push(...(item.body.entries as FileInfo[]));
      }
    }
    const r = await call.result();
    if (r.sha256 !== hash.digest('hex') || r.count !== entries.length) throw new VsshError('VSSH_INTEGRITY', `the listing from ${this.target.name} does not match its signed summary`);
    return { entries, truncated: r.truncated === true };
  }

  /** ping measures a round trip on the connection, in milliseconds. */
  async ping(): Promise<number> {
    return (await this.#connection()).ping();
  }

  /** exec runs argv (no shell) or a shell string, streaming or collecting its output. */
  async exec(command: { argv: string[] } | { shell: string }, opts: ExecOptions = {}): Promise<ExecOutcome> {
    const call = await this.call('exec', { ...command, env: opts.env, cwd: opts.cwd, timeoutMs: opts.timeoutMs, maxOutputBytes: opts.maxOutputBytes, stdin: opts.stdin !== undefined });
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.stdin !== undefined) void feed(call, opts.stdin);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outHash = createHash('sha256');
    const errHash = createHash('sha256');
    try {
      for (let item = await call.next(); item; item = await call.next()) {
        if (item.kind !== 'data') continue;
        if (item.channel === Channel.ERR) {
          errHash.update(item.bytes);
          if (opts.onStderr) opts.onStderr(item.bytes);
          else err.push(item.bytes);
        } else {
          outHash.update(item.bytes);
          if (opts.onStdout) opts.onStdout(item.bytes);
          else out.push(item.bytes);
        }
      }
    } catch (e) {
      if (opts.signal?.aborted) throw new VsshError('VSSH_CANCELLED', `the command on ${this.target.name} was cancelled`);
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const r = (await call.result()) as ExecResult;
    if (r.stdoutSha256 !== outHash.digest('hex') || r.stderrSha256 !== errHash.digest('hex')) {
      throw new VsshError('VSSH_INTEGRITY', `the output received from ${this.target.name} does not match what it signed (altered in transit)`);
    }
    return { ...r, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }

  /**
   * put copies local files or trees to `dest` on the node; unchanged files do not cross. One source: a folder's
   * contents land in `dest`, a file at `dest` (or in it). Several: each lands in the folder `dest` under its name,
   * or its contents do when it is written with a trailing `/` (see planPut). `filter` leaves paths out (first
   * matching rule wins); with `dryRun`, the node only says what would cross and what would be deleted, and
   * nothing is written there: the result's `dryRun` lists it.
   */
  async put(local: string | string[], dest: string, opts: TransferOptions = {}): Promise<PutResult> {
    const filter = new Filter(opts.filter ?? []);
    const plan = await planPut(typeof local === 'string' ? [local] : local, filter);
    const { entries } = plan;
    const call = await this.call('put', { dest, name: plan.name, delete: opts.delete, checksum: opts.checksum, dryRun: opts.dryRun, filter: filter.empty ? undefined : filter.rules });
    let sent: SendStats;
    let planned: Awaited<ReturnType<typeof wouldSend>> | undefined;
    try {
      sendManifest(call.stream, entries);
      const needs = await readNeeds(call.stream, entries.length, (body) => call.verify(body));
      if (opts.dryRun) {
        planned = await wouldSend(plan, needs);
        call.stream.end();
        sent = { files: 0, bytes: 0, same: planned.same, failed: planned.failed };
      } else sent = await sendFiles(call.stream, entries, (i) => plan.local[i]!, needs, opts.onBytes);
    } catch (err) {
      // The node answered early (a refusal, a full disk): its signed reply says why.
      if (err instanceof VsshError && err.code === 'VSSH_CANCELLED') await call.result();
      call.cancel(); // anything else failed here: the node stops waiting for the rest
      throw err;
    }
    const received = (await call.result()) as ReceiveStats;
    if (!planned) return { sent, received, excluded: plan.excluded };
    if (received.dryRun !== true) throw new VsshError('VSSH_FRAME_MALFORMED', `${this.target.name} answered a dry run as if it had written (an older vssh?)`);
    const dryRun: DryRunReport = {
      send: planned.send,
      bytes: planned.send.reduce((n, p) => n + p.bytes, 0),
      unchanged: received.unchanged + planned.same,
      delete: received.deletions ?? [],
      deleted: received.deleted,
    };
    return { sent, received, excluded: plan.excluded, dryRun };
  }

  /** sync mirrors local folders into `dest`: only changed files cross; with `delete`, extra files go. */
  sync(local: string | string[], dest: string, opts: TransferOptions = {}): Promise<PutResult> {
    return this.put(local, dest, opts);
  }

  /** get copies a remote file or tree to `local`; unchanged files do not cross. */
  async get(path: string, local: string, opts: TransferOptions = {}): Promise<{ sent: SendStats; received: ReceiveStats }> {
    const call = await this.call('get', { path });
    let received: ReceiveStats;
    try {
      // confine: the node chooses the paths in its manifest, and must not reach outside `local` with them
      received = await receiveTree(call.stream, { dest: resolve(local), name: posix.basename(path), checksum: opts.checksum, delete: opts.delete, onBytes: opts.onBytes, onReply: (body) => call.verify(body), confine: true, stripSetid: !opts.keepSetid });
    } catch (err) {
      call.cancel();
      throw err;
    }
    const sent = (await call.result()) as unknown as SendStats;
    return { sent, received };
  }

  /**
   * tunnel listens on a local TCP port and carries each connection to host:port as seen from the node.
   * It first asks the node whether its policy allows the tunnel, and throws that refusal (VSSH_POLICY) before
   * listening; a connection the node refuses or cannot carry later is closed and reported to `onError`.
   * Close the returned server to stop.
   */
  async tunnel(localPort: number, host: string, port: number, bindHost = '127.0.0.1', opts: { onError?: (err: VsshError) => void } = {}): Promise<Server> {
    const probe = await this.call('tunnel', { host, port, check: true });
    // A daemon older than `check` connects instead: its policy allowed it, so that is the answer too.
    if ((await probe.next())?.kind === 'msg') probe.cancel();
    // allowHalfOpen: a local peer that ends its side (a request, then FIN) still gets the whole reply.
    const server = createServer({ allowHalfOpen: true }, (sock) => void this.#carry(sock, host, port, opts.onError));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(localPort, bindHost, () => resolve());
    });
    return server;
  }

  async #carry(sock: Socket, host: string, port: number, onError?: (err: VsshError) => void): Promise<void> {
    sock.setNoDelay(true);
    sock.on('error', () => {}); // the local peer may go first; its socket is destroyed below
    let call: Call;
    try {
      call = await this.call('tunnel', { host, port });
      const first = await call.next();
      if (!first || first.kind !== 'msg' || first.body.connected !== true) throw new VsshError('VSSH_UNREACHABLE', 'the tunnel did not open');
    } catch (err) {
      sock.destroy();
      onError?.(err instanceof VsshError ? err : new VsshError('VSSH_INTERNAL', String(err)));
      return;
    }
    sock.on('error', () => call.cancel());
    const up = (async () => {
      // destroyOnReturn false: the end of the local input ends only this direction, not the socket
      for await (const chunk of sock.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) await call.stream.write(Channel.OUT, chunk);
      call.stream.end();
    })().catch(() => sock.destroy());
    try {
      for (let item = await call.next(); item; item = await call.next()) {
        if (item.kind === 'data' && !sock.write(item.bytes)) await new Promise((r) => sock.once('drain', r));
        else if (item.kind === 'end') sock.end();
      }
    } catch {
      sock.destroy();
    }
    await up;
  }

  /** speed measures round trips and throughput both ways. */
  async speed(bytes = 256 * 1024 * 1024): Promise<{ rttMs: number; upMBps: number; downMBps: number }> {
    const rtts: number[] = [];
    for (let i = 0; i < 20; i++) rtts.push(await this.ping());
    rtts.sort((a, b) => a - b);
    let t = performance.now();
    const up = await this.call('speed', { direction: 'up' });
    const block = Buffer.alloc(1024 * 1024 - 16);
    for (let sent = 0; sent < bytes; sent += block.length) await up.stream.write(Channel.OUT, block.subarray(0, Math.min(block.length, bytes - sent)));
    up.stream.end();
    await up.result();
    const upMs = performance.now() - t;
    t = performance.now();
    const down = await this.call('speed', { direction: 'down', bytes });
    let got = 0;
    for (let item = await down.next(); item; item = await down.next()) if (item.kind === 'data') got += item.bytes.length;
    const downMs = performance.now() - t;
    if (got !== bytes) throw new VsshError('VSSH_INTEGRITY', `the speed test received ${got} of ${bytes} bytes`);
    const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
    return { rttMs: rtts[Math.floor(rtts.length / 2)]!, upMBps: mbps(upMs), downMBps: mbps(downMs) };
  }

  /** close drops the connection; running requests fail. */
  close(): void {
    this.#mux?.close();
    this.#mux = undefined;
  }

  #connection(): Promise<Mux> {
    if (this.#mux && !this.#mux.closed) return Promise.resolve(this.#mux);
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<Mux> {
    const tried: string[] = [];
    const rounds = 1 + (this.opts.retries ?? 2);
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await sleep(backoff(round - 1));
      for (const a of this.target.addresses) {
        try {
          const mux = await this.#open(a);
          this.#mux = mux;
          this.#address = a;
          return mux;
        } catch (err) {
          // a wrong certificate or a wrong key is not a network blip: say so at once
          if (err instanceof VsshError && (err.code === 'VSSH_TLS' || err.code.startsWith('VSSH_AUTH'))) throw err;
          tried.push(`${a.host}:${a.port} (${a.via}${a.tls ? ', TLS' : ''}): ${err instanceof VsshError ? err.message : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)}`);
        }
      }
    }
    throw new VsshError('VSSH_UNREACHABLE', `cannot reach ${this.target.name}: ${[...new Set(tried)].join('; ')}. Is \`vssh serve\` running there, and the mesh up?`);
  }

  /**
   * #open connects to one address and proves the node is there before the connection is used: its first
   * request is `hello`, whose signed reply must arrive within the timeout (an address that accepts TCP and
   * never answers, or a TLS listener reached in plain, fails here and the next address is tried). Over
   * TLS, the hello also names the certificate, which must be the one on the socket.
   */
  async #open(a: Address): Promise<Mux> {
    const timeout = this.opts.connectTimeoutMs ?? 3000;
    const opts = { host: a.host, port: a.port, highWaterMark: SOCKET_BUFFER };
    const socket: Socket = a.tls ? tlsConnect({ ...opts, rejectUnauthorized: false, minVersion: 'TLSv1.3' }) : netConnect(opts);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VsshError('VSSH_UNREACHABLE', `no answer within ${timeout} ms`)), timeout);
    });
    let mux: Mux | undefined;
    try {
      await Promise.race([
        expired,
        new Promise<void>((resolve, reject) => {
          socket.once(a.tls ? 'secureConnect' : 'connect', () => resolve());
          socket.once('error', reject);
        }),
      ]);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      mux = new Mux(socket);
      const hello = await Promise.race([expired, new Call(mux, this.key, this.target.name, 'hello', {}).result()]);
      if (a.tls) {
        // The certificate is self-signed; what makes it the node's is the node's signed hello naming it.
        const seen = (socket as TLSSocket).getPeerCertificate().fingerprint256;
        if (!seen || hello.tlsFingerprint !== seen) {
          throw new VsshError('VSSH_TLS', `the TLS certificate at ${a.host}:${a.port} is not the one ${this.target.name} signed for: someone is in the middle, or the node's certificate changed.`);
        }
      }
      return mux;
    } catch (err) {
      if (mux) mux.close();
      else socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
      expired.catch(() => {});
    }
  }
}

async function feed(call: Call, input: Readable | Buffer | string): Promise<void> {
  try {
    if (typeof input === 'string' || Buffer.isBuffer(input)) await call.stream.write(Channel.OUT, Buffer.from(input));
    else for await (const chunk of input as AsyncIterable<Buffer>) await call.stream.write(Channel.OUT, chunk);
    call.stream.end();
  } catch {
    /* the command ended or the stream failed; the exec's reply says how */
  }
}

