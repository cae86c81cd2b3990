import { connect } from 'node:net';
import { dirname } from 'node:path';
import { VaultError, VaultErrorCode } from '../errors.js';
import { assertOwnSocket, assertPrivateDir } from '../fsutil.js';

/**
 * The unlock agent speaks one JSON line each way per connection over a Unix socket that only its
 * owner can open (mode 0600 in a 0700 folder): `{"op","args"}` in, `{"ok","result"}` or
 * `{"ok":false,"code","message"}` out. Who asks is not part of a request: the agent asks the kernel. This module needs nothing but Node itself, so that
 * `sv get` through the agent starts fast.
 */

/** MAX_LINE is the longest line either side accepts (a 1 MiB value in base64, and room to spare). */
export const MAX_LINE = 4 * 1024 * 1024;

/** AgentStatus is what a running agent says of itself. */
export interface AgentStatus {
  pid: number;
  store: string;
  unlockedAt: string;
  idleMs: number;
  expiresAt: string;
}

/**
 * agentRequest sends one request to the agent at `socket` and returns its result. A missing or dead
 * agent is VAULT_LOCKED; an error the agent reports comes back as the same VaultError. Before it sends
 * anything it checks that no other user can write the socket's folder and that the socket is this
 * user's (VAULT_INSECURE otherwise), so a value never goes to a listener someone else planted.
 */
export function agentRequest<T>(socket: string, op: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
  try {
    assertPrivateDir(dirname(socket));
    assertOwnSocket(socket);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise<T>((resolve, reject) => {
    const conn = connect(socket);
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new VaultError('VAULT_AGENT', `the vault agent did not answer within ${timeoutMs} ms; \`sv lock\` and \`sv unlock\` restart it.`));
    }, timeoutMs);
    // pid: where the agent looks first for the process holding this connection (it checks, never trusts it).
    conn.on('connect', () => conn.end(JSON.stringify({ op, args, pid: process.pid }) + '\n'));
    conn.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_LINE) conn.destroy(new Error('reply too long'));
      else chunks.push(c);
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') {
        reject(new VaultError('VAULT_LOCKED', 'the vault is locked (no agent is running): run `sv unlock`, or set SV_PASSWORD_FILE.', { cause: err }));
      } else {
        reject(new VaultError('VAULT_AGENT', `cannot talk to the vault agent at ${socket} (${err.code ?? err.message}).`, { cause: err }));
      }
    });
    conn.on('end', () => {
      clearTimeout(timer);
      let reply: { ok: boolean; result?: T; code?: VaultErrorCode; message?: string };
      try {
        reply = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reject(new VaultError('VAULT_AGENT', 'the vault agent sent a reply that is not JSON; `sv lock` and `sv unlock` restart it.'));
        return;
      }
      if (reply.ok) resolve(reply.result as T);
      else reject(new VaultError(reply.code ?? 'VAULT_AGENT', reply.message ?? 'the vault agent refused the request.'));
    });
  });
}

/** agentStatus returns the running agent's status, or undefined when none answers at `socket`. */
export async function agentStatus(socket: string): Promise<AgentStatus | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await agentRequest<AgentStatus>(socket, 'status', {}, 5_000);
    } catch (err) {
      if (err instanceof VaultError && err.code === 'VAULT_LOCKED') return undefined;
      // An agent that locks itself as the probe arrives resets the connection: ask once more, and the
      // socket is then gone (locked) or answers (a live agent).
      const reset = (err as VaultError).cause as NodeJS.ErrnoException | undefined;
      if (attempt === 0 && (reset?.code === 'ECONNRESET' || reset?.code === 'EPIPE')) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      throw err;
    }
  }
}
