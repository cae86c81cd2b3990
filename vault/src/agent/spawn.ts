import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VaultError, VaultErrorCode } from '../errors.js';
import { LocalVault } from '../store.js';

/** DEFAULT_IDLE_MS is how long an unused agent keeps the vault unlocked: 15 minutes. */
export const DEFAULT_IDLE_MS = 15 * 60 * 1000;

/**
 * startAgent starts a detached unlock agent holding `vault`'s key and waits until it listens.
 * It returns the agent's pid. The key crosses to the child on a pipe, never in argv or env.
 */
export async function startAgent(vault: LocalVault, idleMs = DEFAULT_IDLE_MS): Promise<number> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(JSON.stringify({ home: vault.paths.home, key: Buffer.from(vault.masterKey()).toString('hex'), idleMs }));
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new VaultError('VAULT_AGENT', 'the vault agent did not start within 15 s.')), 15_000);
    const check = (): void => {
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      let reported: { code?: VaultErrorCode; message?: string } = {};
      try { reported = JSON.parse(err.trim().split('\n').pop() ?? '{}'); } catch { /* plain text */ }
      reject(new VaultError(reported.code ?? 'VAULT_AGENT', reported.message ?? `the vault agent exited (${code}) before it was ready: ${err.trim().slice(0, 300)}`));
    });
  });
  child.removeAllListeners('exit');
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  return child.pid!;
}
