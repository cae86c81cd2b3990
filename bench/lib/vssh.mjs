import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownChild } from './cleanup.mjs';
import { run } from './spawn.mjs';
import { scratchVault, sv, unlock } from './sv.mjs';

/** VSSH is the path of the vssh CLI as the repo builds it. */
export const VSSH = fileURLToPath(new URL('../../vssh/bin/run.js', import.meta.url));

/** NODE is the name the scratch daemon serves as, in nodes.json and in its key derivation. */
export const NODE = 'n1';

/** withoutCaCerts returns `env` without NODE_EXTRA_CA_CERTS, which makes every Node process parse a CA bundle at start. */
export function withoutCaCerts(env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
}

/**
 * scratchVssh creates a MeshPOP home in a temp dir: a vault with the cheapest Argon2id parameters (its
 * cost is not what these benchmarks measure), the controller master (`vssh keys init`) and a running
 * unlock agent, so that every vssh process gets the key from the agent. Returns the vault from
 * scratchVault ({ home, env, ... }); `env` carries no password. cleanup() locks the agent and removes the home.
 */
export function scratchVssh() {
  const vault = scratchVault();
  sv(vault, ['init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1'], { password: true });
  run(process.execPath, [VSSH, 'keys', 'init'], { env: { ...vault.env, SV_PASSWORD_FILE: vault.pwFile } });
  unlock(vault, '60m');
  return vault;
}

/**
 * startServe starts `vssh serve` for NODE on 127.0.0.1 (a free port) with `vault`'s home, waits until it
 * listens, and writes nodes.json so that `vssh ... n1` reaches it. Its log (one JSON line per request)
 * goes to serve.log in the home. Returns { pid, port, log, stop() }; stop() ends it with SIGTERM and
 * waits for it; cleanup() kills it by pid if it is still running. `nodeArgs` go to node (e.g. --cpu-prof).
 */
export async function startServe(vault, { nodeArgs = [] } = {}) {
  const log = join(vault.home, 'serve.log');
  const logFd = openSync(log, 'a');
  const child = spawn(process.execPath, [...nodeArgs, VSSH, 'serve', '--bind', '127.0.0.1', '--port', '0', '--id', NODE, '--name', NODE], {
    env: withoutCaCerts(vault.env),
    stdio: ['ignore', 'pipe', logFd],
  });
  closeSync(logFd);
  const owned = ownChild(child);
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`vssh serve did not listen within 30 s: ${readFileSync(log, 'utf8').slice(-500)}`)), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const m = /vssh serving on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void owned.exit.then((how) => {
      clearTimeout(timer);
      reject(new Error(`vssh serve exited (${how}) before listening: ${readFileSync(log, 'utf8').slice(-500)}`));
    });
  });
  mkdirSync(join(vault.home, 'vssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(vault.home, 'vssh', 'nodes.json'), JSON.stringify({ [NODE]: { addresses: [`127.0.0.1:${port}`] } }));
  return {
    pid: child.pid,
    port,
    log,
    stop: owned.stop,
  };
}

/** vsshVersion returns the version `vssh --version` reports. */
export function vsshVersion() {
  return run(process.execPath, [VSSH, '--version'], { env: withoutCaCerts(process.env) }).match(/vssh\/(\S+)/)?.[1] ?? 'unknown';
}
