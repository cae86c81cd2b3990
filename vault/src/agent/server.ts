import { createServer, Server, Socket } from 'node:net';
import { unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { VaultError } from '../errors.js';
import { LocalVault } from '../store.js';
import { assertPrivateDir } from '../fsutil.js';
import { MAX_LINE, agentStatus } from './client.js';
import { Peer, socketPeer } from './peer.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s), 'base64'));

/** AgentOptions configure a running agent. */
export interface AgentOptions {
  socket: string;
  /** the agent locks itself after this long without a request */
  idleMs: number;
  /** called once the agent has locked (on `lock`, idle timeout or close) */
  onLocked?: (why: string) => void;
}

/** RunningAgent is a listening agent. */
export interface RunningAgent {
  server: Server;
  lock(why: string): Promise<void>;
}

type Handler = (v: LocalVault, args: Record<string, unknown>) => Promise<unknown>;

const str = (a: Record<string, unknown>, k: string): string => {
  if (typeof a[k] !== 'string') throw new VaultError('VAULT_BAD_INPUT', `the request lacks the text field "${k}".`);
  return a[k] as string;
};

const handlers: Record<string, Handler> = {
  get: async (v, a) => ({ value: b64(await v.get(str(a, 'name'))) }),
  has: (v, a) => v.has(str(a, 'name')),
  set: (v, a) => v.set(str(a, 'name'), unb64(str(a, 'value')), (a.meta ?? {}) as { category?: string; tags?: string[] }),
  list: (v) => v.list(),
  remove: (v, a) => v.remove(str(a, 'name')),
  getMany: async (v, a) => {
    const names = Array.isArray(a.names) ? a.names.map(String) : undefined;
    const values = await v.getMany(names, typeof a.op === 'string' ? a.op : undefined);
    return Object.fromEntries([...values].map(([k, val]) => [k, b64(val)]));
  },
  split: (v, a) => v.split(Number(a.count), Number(a.threshold)),
  verify: (v) => v.verify(),
  note: (v, a) => v.note(str(a, 'op'), Array.isArray(a.names) ? a.names.map(String) : undefined),
};

/** MAX_TIMER_MS is the longest delay setTimeout keeps (2^31-1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** MAX_IDLE_MS is the longest idle timeout an agent takes: 366 days. */
export const MAX_IDLE_MS = 366 * 86_400_000;

/**
 * serveAgent makes `vault` available on a Unix socket (mode 0600, in a folder no other user can write)
 * until it is locked: by a `lock` request, by `idleMs` without use, or by close. A status probe is not
 * use. A stale socket left by a dead agent is replaced; a live one is refused. Each request is audited
 * as the pid and uid the kernel reports for its connection (socketPeer), never as what it claims; a
 * connection from another user (root aside) is refused.
 */
export async function serveAgent(vault: LocalVault, opts: AgentOptions): Promise<RunningAgent> {
  if (!Number.isSafeInteger(opts.idleMs) || opts.idleMs <= 0 || opts.idleMs > MAX_IDLE_MS) {
    throw new VaultError('VAULT_BAD_INPUT', `the idle timeout must be between 1 ms and 366 days; ${opts.idleMs} ms is not.`);
  }
  assertPrivateDir(dirname(opts.socket));
  if (await agentStatus(opts.socket)) {
    throw new VaultError('VAULT_AGENT', `a vault agent is already running at ${opts.socket}; \`sv lock\` stops it.`);
  }
  try { unlinkSync(opts.socket); } catch { /* no stale socket */ }
  const unlockedAt = new Date();
  const uid = process.getuid?.();
  let timer: NodeJS.Timeout | undefined;
  let deadline = 0;
  let locked = false;
  const sockets = new Set<Socket>();
  // Clients half-close after their request; the reply still has to go back, so the agent ends each connection itself.
  const server = createServer({ allowHalfOpen: true });

  const lock = async (why: string): Promise<void> => {
    if (locked) return;
    locked = true;
    clearTimeout(timer);
    try { await vault.note('lock', undefined, why); } catch { /* the store may be gone; lock anyway */ }
    server.close();
    for (const s of sockets) s.destroy();
    try { unlinkSync(opts.socket); } catch { /* already gone */ }
    await vault.close();
    opts.onLocked?.(why);
  };
  // The timer is re-armed in steps no longer than setTimeout keeps, until the deadline has passed.
  const arm = (): void => {
    clearTimeout(timer);
    const left = deadline - Date.now();
    if (left <= 0) {
      void lock('idle timeout');
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref?.();
  };
  const touch = (): void => {
    deadline = Date.now() + opts.idleMs;
    arm();
  };

  const refuse = (code: string, message: string): { reply: unknown } => ({ reply: { ok: false, code, message } });

  const answer = async (line: string, sock: Socket): Promise<{ reply: unknown; after?: () => Promise<void> }> => {
    let req: { op?: unknown; args?: unknown; pid?: unknown };
    try {
      req = JSON.parse(line);
    } catch {
      return refuse('VAULT_BAD_INPUT', 'the request is not a JSON line.');
    }
    const op = String(req?.op);
    const args = (typeof req.args === 'object' && req.args !== null ? req.args : {}) as Record<string, unknown>;
    if (op === 'status') {
      return { reply: { ok: true, result: { pid: process.pid, store: vault.paths.store, unlockedAt: unlockedAt.toISOString(), idleMs: opts.idleMs, expiresAt: new Date(deadline).toISOString() } } };
    }
    const h = op === 'lock' ? undefined : Object.hasOwn(handlers, op) ? handlers[op] : undefined;
    if (op !== 'lock' && !h) return refuse('VAULT_BAD_INPUT', `the agent has no operation "${op.slice(0, 40)}".`);
    let peer: Peer;
    try {
      peer = await socketPeer(sock, opts.socket, typeof req.pid === 'number' ? req.pid : undefined);
    } catch (err) {
      // Locking gives nothing away: let anyone who can reach the socket do it, named or not.
      if (op === 'lock') return { reply: { ok: true, result: { locked: true } }, after: () => lock('sv lock from a caller the kernel did not name') };
      return refuse('VAULT_AGENT', (err as Error).message);
    }
    if (uid !== undefined && peer.uid !== uid && peer.uid !== 0) {
      return refuse('VAULT_INSECURE', `uid ${peer.uid} may not use the vault agent of uid ${uid}.`);
    }
    touch();
    if (op === 'lock') return { reply: { ok: true, result: { locked: true } }, after: () => lock(`sv lock from pid ${peer.pid} uid ${peer.uid}`) };
    try {
      const result = await h!(vault.forActor({ via: 'agent', pid: peer.pid, uid: peer.uid }), args);
      return { reply: { ok: true, result: result ?? null } };
    } catch (err) {
      if (err instanceof VaultError) return refuse(err.code, err.message);
      // Not the message: an unexpected error may quote what it was given.
      return refuse('VAULT_AGENT', `the agent failed (${(err as Error)?.name ?? 'error'}); the request was not carried out.`);
    }
  };

  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(30_000, () => sock.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = async (): Promise<void> => {
      if (done) return;
      done = true;
      const { reply, after } = await answer(Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '', sock);
      sock.end(JSON.stringify(reply) + '\n', () => void after?.());
    };
    sock.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > MAX_LINE) {
        done = true;
        sock.end(JSON.stringify({ ok: false, code: 'VAULT_BAD_INPUT', message: `request longer than ${MAX_LINE} bytes.` }) + '\n');
        return;
      }
      chunks.push(c);
      if (c.includes(0x0a)) void finish();
    });
    sock.on('end', () => void finish());
  });

  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new VaultError('VAULT_AGENT', `the vault agent cannot listen on ${opts.socket} (${(err as NodeJS.ErrnoException).code ?? err}).`, { cause: err });
  } finally {
    process.umask(oldMask);
  }
  touch();
  return { server, lock };
}
