import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { openVault } from '@meshpop/vault';
import { controllerMaster, deriveNodeKey, startDaemon, Policy, Pool, type Daemon } from '@meshpop/vssh';

/** MPOP_BIN, SV_BIN and VSSH_BIN are the built command lines under test. */
export const MPOP_BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
export const SV_BIN = fileURLToPath(new URL('../../vault/bin/run.js', import.meta.url));
export const VSSH_BIN = fileURLToPath(new URL('../../vssh/bin/run.js', import.meta.url));

/** FleetNode is one loopback node: a real vssh daemon (in this process) on its own port, with its own key. */
export interface LoopNode {
  name: string;
  port: number;
  daemon: Daemon | undefined;
}

/** Fleet is a controller home (vault, vssh master, nodes.json) and loopback daemons for its nodes. */
export interface Fleet {
  home: string;
  env: Record<string, string>;
  master: Uint8Array;
  nodes: LoopNode[];
  /** a pool over the fleet, for library tests (closed by close()) */
  pool: Pool;
  /** stop takes a node's daemon down (its port refuses from then on) */
  stop(name: string): Promise<void>;
  /** start brings a stopped node back on the same port */
  start(name: string): Promise<void>;
  /** addSilent adds a node whose port accepts TCP and never says a word */
  addSilent(name: string): Promise<void>;
  /** addDown adds a node whose port refuses connections */
  addDown(name: string): Promise<void>;
  /** mpop runs the built CLI against this home (no throw on a non-zero exit) */
  mpop(args: string[], opts?: { input?: string; timeout?: number; env?: Record<string, string> }): ReturnType<typeof execa>;
  close(): Promise<void>;
}

/** makeHome creates a throwaway $MESHPOP_HOME with a vault (fast KDF, password file) and a vssh master. */
export async function makeHome(): Promise<{ home: string; env: Record<string, string> }> {
  const home = mkdtempSync(join(tmpdir(), 'mpop-test-'));
  writeFileSync(join(home, 'pw'), 'test password\n', { mode: 0o600 });
  const env = { MESHPOP_HOME: home, SV_PASSWORD_FILE: join(home, 'pw'), NODE_EXTRA_CA_CERTS: '', VSSH_LOG_LEVEL: 'warn', NO_COLOR: '1' };
  await execa(process.execPath, [SV_BIN, 'init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1'], { env });
  await execa(process.execPath, [VSSH_BIN, 'keys', 'init'], { env });
  return { home, env };
}

/** loopFleet starts `names` (default n1..nN) as loopback daemons and writes them into nodes.json. */
export async function loopFleet(n: number, opts: { names?: string[]; policy?: (name: string) => Policy | undefined } = {}): Promise<Fleet> {
  const { home, env } = await makeHome();
  const vault = await openVault({ home, agent: false, env: { ...process.env, ...env } });
  const master = (await controllerMaster(vault)).master;
  await vault.close();
  const names = opts.names ?? Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const nodes: LoopNode[] = [];
  const listed: Record<string, { addresses: string[] }> = {};
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const writeNodes = (): void => {
    mkdirSync(join(home, 'vssh'), { recursive: true });
    writeFileSync(join(home, 'vssh', 'nodes.json'), JSON.stringify(listed, null, 2));
  };
  const launch = async (name: string, port: number): Promise<Daemon> => {
    const policy = opts.policy?.(name);
    return startDaemon({ key: deriveNodeKey(master, name), name, port, hosts: ['127.0.0.1'], ...(policy ? { policy } : {}) });
  };
  for (const name of names) {
    const daemon = await launch(name, 0);
    nodes.push({ name, port: daemon.port, daemon });
    listed[name] = { addresses: [`127.0.0.1:${daemon.port}`] };
  }
  writeNodes();
  const pool = new Pool({ home, master, retries: 0 });
  const fleet: Fleet = {
    home,
    env,
    master,
    nodes,
    pool,
    async stop(name) {
      const node = nodes.find((x) => x.name === name)!;
      await node.daemon?.close();
      node.daemon = undefined;
    },
    async start(name) {
      const node = nodes.find((x) => x.name === name)!;
      node.daemon ??= await launch(name, node.port);
    },
    async addSilent(name) {
      const server = createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      const port = (server.address() as { port: number }).port;
      nodes.push({ name, port, daemon: undefined });
      listed[name] = { addresses: [`127.0.0.1:${port}`] };
      writeNodes();
    },
    async addDown(name) {
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      await new Promise((r) => server.close(r));
      nodes.push({ name, port, daemon: undefined });
      listed[name] = { addresses: [`127.0.0.1:${port}`] };
      writeNodes();
    },
    mpop(args, o = {}) {
      return execa(process.execPath, [MPOP_BIN, ...args], { env: { ...env, ...o.env }, reject: false, input: o.input, stdin: o.input === undefined ? 'ignore' : undefined, timeout: o.timeout ?? 60_000 });
    },
    async close() {
      await pool.close();
      for (const node of nodes) await node.daemon?.close();
      for (const s of sockets) s.destroy();
      for (const s of servers) await new Promise((r) => s.close(r));
      rmSync(home, { recursive: true, force: true });
    },
  };
  return fleet;
}

/** freePort asks the kernel for a port nothing listens on (127.0.0.1). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** processCount is how many processes on this machine (the loopback nodes' too) have a command line starting with `prefix`. */
export function processCount(prefix: string): number {
  try {
    return Number(execFileSync('pgrep', ['-f', '-c', `^${prefix}`], { encoding: 'utf8' }).trim()) || 0;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}

/** readJson parses a file. */
export const readJson = <T = unknown>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
