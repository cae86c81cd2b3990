import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** VSSH_BIN and SV_BIN are the built command lines under test. */
export const VSSH_BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
export const SV_BIN = fileURLToPath(new URL('../../vault/bin/run.js', import.meta.url));

/** Home is a throwaway $MESHPOP_HOME with an initialized vault (fast KDF) opened through a password file. */
export interface Home {
  dir: string;
  env: Record<string, string>;
  remove(): void;
}

/** makeHome creates a home with a vault; `controller` also runs `vssh keys init`. */
export async function makeHome(opts: { controller?: boolean } = {}): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), 'vssh-test-'));
  writeFileSync(join(dir, 'pw'), 'test password\n', { mode: 0o600 });
  const env = { MESHPOP_HOME: dir, SV_PASSWORD_FILE: join(dir, 'pw'), VSSH_LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: '' };
  await execa(process.execPath, [SV_BIN, 'init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1'], { env });
  if (opts.controller) await vssh(env, ['keys', 'init']);
  return { dir, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** vssh runs the built CLI and returns its result without throwing on a non-zero exit. */
export function vssh(env: Record<string, string>, args: string[], opts: { input?: string; timeout?: number; cwd?: string } = {}) {
  return execa(process.execPath, [VSSH_BIN, ...args], { env, reject: false, cwd: opts.cwd, input: opts.input, stdin: opts.input === undefined ? 'ignore' : undefined, timeout: opts.timeout ?? 60_000 });
}

/** writeNodes writes the static node list of a home. */
export function writeNodes(home: Home, nodes: Record<string, { addresses: (string | { address: string; tls?: boolean })[]; port?: number; id?: string; tls?: boolean }>): void {
  mkdirSync(join(home.dir, 'vssh'), { recursive: true });
  writeFileSync(join(home.dir, 'vssh', 'nodes.json'), JSON.stringify(nodes, null, 2));
}

/** Served is a `vssh serve` child process, with what it logged. */
export interface Served {
  child: ChildProcess;
  port: number;
  log: () => string;
  stop(): Promise<void>;
}

/** serve starts `vssh serve` on 127.0.0.1 with a free port and waits until it listens. */
export async function serve(env: Record<string, string>, args: string[] = [], port = 0): Promise<Served> {
  const child = spawn(process.execPath, [VSSH_BIN, 'serve', '--bind', '127.0.0.1', '--port', String(port), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vssh serve did not start: ${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /vssh serving on [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vssh serve exited (${code}): ${err}`));
    });
  });
  return {
    child,
    port: bound,
    log: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
