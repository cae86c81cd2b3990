import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WireError } from '../errors.js';
import { missingTool, run } from './run.js';

/** InterfaceOptions describe a WireGuard interface to bring up. */
export interface InterfaceOptions {
  name: string;
  /** the mesh address with its prefix, e.g. 10.99.0.5/16 */
  address: string;
  privateKey: string;
  listenPort: number;
}

/** Backend is how an interface is implemented: the kernel module, or wireguard-go in userspace. */
export type Backend = 'kernel' | 'wireguard-go';

/**
 * withKeyFile hands `wg set` the private key as a file, which it insists on (it cannot read a key from
 * the socket Node gives a child as stdin): a 0600 file in a fresh 0700 folder in RAM (/dev/shm where
 * there is one), removed as soon as `wg` has read it.
 */
async function withKeyFile<T>(privateKey: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'wire-key-'));
  try {
    const file = join(dir, 'private.key');
    writeFileSync(file, privateKey + '\n', { mode: 0o600 });
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * wireguardGoReason picks what went wrong out of wireguard-go's output: its ERROR lines (without the log
 * prefix), not the banner it draws in a box when the kernel could have done the job.
 */
export function wireguardGoReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^[\u2500-\u257f]/.test(l));
  const errors = lines.filter((l) => /^ERROR:/.test(l)).map((l) => l.replace(/^ERROR: \([^)]*\) [\d/]+ [\d:]+ /, ''));
  return (errors.length ? errors.join('; ') : lines.join(' ')).slice(-500) || 'no message';
}

/** IFNAME_RE is what Linux takes as an interface name: 1 to 15 characters, none of them '/', ':' or a space. */
const IFNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/** checkIfaceName throws WIRE_BAD_INPUT unless `name` can be a network interface's name. */
export function checkIfaceName(name: string): string {
  if (!IFNAME_RE.test(name)) {
    throw new WireError('WIRE_BAD_INPUT', `"${name.slice(0, 40)}" cannot be an interface name: Linux takes 1 to 15 letters, digits, '_', '.' or '-' (e.g. wire0).`);
  }
  return name;
}

/** interfaceExists tells whether a network interface of this name exists here. */
export async function interfaceExists(name: string): Promise<boolean> {
  try {
    await run('ip', ['link', 'show', 'dev', name]);
    return true;
  } catch (err) {
    if (err instanceof WireError && err.code === 'WIRE_MISSING_TOOL') throw err;
    return false;
  }
}

/**
 * WgInterface is a WireGuard interface this process brought up. With wireguard-go it keeps the
 * daemon as a child in the foreground, so that its death is noticed (`exited`) and can be repaired.
 */
export class WgInterface {
  readonly name: string;
  backend: Backend = 'kernel';
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  constructor(name: string) {
    this.name = checkIfaceName(name);
  }

  /** exited resolves when the wireguard-go daemon ends (never for a kernel interface). */
  get exited(): Promise<void> {
    return this.#exited ?? new Promise(() => {});
  }

  /** up creates the interface (kernel first, else wireguard-go), sets its key, port and address, and raises it. */
  async up(opts: InterfaceOptions): Promise<void> {
    if (!(await interfaceExists(this.name))) await this.#create();
    await withKeyFile(opts.privateKey, (file) => run('wg', ['set', this.name, 'private-key', file, 'listen-port', String(opts.listenPort)]));
    await run('ip', ['address', 'replace', opts.address, 'dev', this.name]);
    await run('ip', ['link', 'set', 'dev', this.name, 'mtu', '1420', 'up']);
  }

  async #create(): Promise<void> {
    try {
      await run('ip', ['link', 'add', 'dev', this.name, 'type', 'wireguard']);
      this.backend = 'kernel';
      return;
    } catch (err) {
      if (err instanceof WireError && err.code === 'WIRE_MISSING_TOOL') throw err;
      // No WireGuard in this kernel: run it in userspace.
    }
    this.backend = 'wireguard-go';
    // wireguard-go logs its errors on stdout (its banner goes to stderr): keep the tail of both. Both pipes
    // are read for as long as it runs, so a chatty daemon never blocks on a full pipe.
    const child = spawn('wireguard-go', ['-f', this.name], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } });
    let stderr = '';
    const keep = (c: Buffer): void => void (stderr = (stderr + c.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // 'close', not 'exit': the reason is the last thing wireguard-go writes, and it may still be in the pipe at exit.
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? missingTool('wireguard-go') : err));
      child.once('close', (code) => reject(new WireError('WIRE_COMMAND_FAILED', `wireguard-go ${this.name} exited (${code}) while starting: ${wireguardGoReason(stderr)}`)));
    });
    failed.catch(() => {});
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const ready = (async () => {
      for (let i = 0; i < 200; i++) {
        if (existsSync(`/var/run/wireguard/${this.name}.sock`) && (await interfaceExists(this.name))) return;
        await sleep(25);
      }
      throw new WireError('WIRE_COMMAND_FAILED', `wireguard-go ${this.name} did not create its interface within 5 s`);
    })();
    await Promise.race([ready, failed]);
  }

  /** down deletes the interface (wireguard-go ends with it). */
  async down(): Promise<void> {
    if (await interfaceExists(this.name)) await run('ip', ['link', 'del', 'dev', this.name]);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}
