import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KdfParams } from '../src/crypto/kdf.js';

/** FAST_KDF keeps Argon2id cheap in tests; the defaults are covered by their own tests and the bench. */
export const FAST_KDF: KdfParams = { algorithm: 'argon2id', memoryKiB: 64, iterations: 1, parallelism: 1 };
export const FAST_KDF_FLAGS = ['--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1'];

export const SV_BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

/** tmpHome makes a throwaway $MESHPOP_HOME with a password file in it. */
export function tmpHome(password = 'correct horse'): { home: string; pwFile: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), 'sv-test-'));
  const pwFile = join(home, 'pw');
  writeFileSync(pwFile, password + '\n', { mode: 0o600 });
  return { home, pwFile, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** runSv runs the built `sv` bin as a whole process, as a user would. */
export function runSv(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<Run> {
  return runNode([SV_BIN, ...args], opts);
}

/** runNode runs `node args...` with `env` over a clean environment (no SV_* leaking in from outside). */
export function runNode(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SV_') && k !== 'MESHPOP_HOME'));
  const child = spawn(process.execPath, args, { env: { ...base, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
