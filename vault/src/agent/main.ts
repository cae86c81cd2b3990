/**
 * The unlock agent's process: `sv unlock` starts it detached and hands it the master key on stdin
 * (never in argv or the environment). It prints `ready` once it listens, then serves until locked.
 */
import { LocalVault } from '../store.js';
import { vaultPaths } from '../paths.js';
import { serveAgent } from './server.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// Once `sv unlock` has gone, nobody reads our pipes: never let a write to them end the agent.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

try {
  const input = JSON.parse(await readStdin()) as { home: string; key: string; idleMs: number };
  const masterKey = new Uint8Array(Buffer.from(input.key, 'hex'));
  const vault = await LocalVault.unlock({ masterKey }, { home: input.home, actor: { via: 'agent', pid: process.pid, ...(process.getuid ? { uid: process.getuid() } : {}) } });
  const agent = await serveAgent(vault, {
    socket: vaultPaths(input.home).socket,
    idleMs: input.idleMs,
    onLocked: () => process.exit(0),
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void agent.lock(`signal ${sig}`));
  process.stdout.write('ready\n');
  process.stdout.end?.();
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stderr.write(JSON.stringify({ code: e.code ?? 'VAULT_AGENT', message: e.message ?? String(err) }) + '\n');
  process.exit(1);
}
