import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup, tempDir } from './cleanup.mjs';
import { run } from './spawn.mjs';

/** SV is the path of the vault CLI, `sv`, as the repo builds it. */
export const SV = fileURLToPath(new URL('../../vault/bin/run.js', import.meta.url));

/** PASSWORD is the throwaway vaults' password. */
export const PASSWORD = 'bench-password';

/**
 * scratchVault creates a home in a temp dir with its password in a file, and returns
 * { home, pwFile, env } where `env` points `sv` at that home with no password.
 * cleanup() locks any agent started on it and removes the home.
 */
export function scratchVault() {
  const home = tempDir('meshpop-bench-sv-');
  const pwFile = join(home, 'pw');
  writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
  const env = { ...process.env, MESHPOP_HOME: home };
  delete env.SV_PASSWORD_FILE;
  delete env.SV_KEY_FILE;
  const vault = { home, pwFile, env, agents: new Set() };
  onCleanup(() => vault.agents.size && lock(vault));
  return vault;
}

/** sv runs `sv args` on `vault` (with its password when `password`) and returns its stdout. */
export function sv(vault, args, { password = false, input } = {}) {
  const env = password ? { ...vault.env, SV_PASSWORD_FILE: vault.pwFile } : vault.env;
  return run(process.execPath, [SV, ...args], { env, input });
}

/** unlock runs `sv unlock` on `vault` and returns the started agent's pid. */
export function unlock(vault, timeout = '2m') {
  const { pid, alreadyRunning } = JSON.parse(sv(vault, ['unlock', '--timeout', timeout, '--json'], { password: true }));
  vault.agents.add(pid);
  if (alreadyRunning) throw new Error(`sv unlock found an agent (pid ${pid}) already running on ${vault.home}`);
  return pid;
}

/**
 * lock runs `sv lock` on `vault` and waits (up to 5 s) until the agent has removed its socket, its
 * last write. If `sv lock` fails it kills the agents this bench started there, by pid.
 */
export function lock(vault) {
  try {
    sv(vault, ['lock']);
    const socket = join(vault.home, 'vault', 'agent.sock');
    for (let i = 0; i < 100 && existsSync(socket); i++) sleepSync(50);
  } catch (err) {
    for (const pid of vault.agents) {
      try { process.kill(pid); } catch { /* already gone */ }
    }
    throw err;
  } finally {
    vault.agents.clear();
  }
}

/** sleepSync blocks for `ms` milliseconds; cleanup() must stay synchronous to run in signal handlers. */
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
