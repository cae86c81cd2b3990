import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { openVault } from '@meshpop/vault';
import { controllerMaster, deriveNodeKey, startDaemon, Pool, type Daemon } from '@meshpop/vssh';

/** MESHDB_BIN is the built command line under test. */
export const MESHDB_BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const SV_BIN = fileURLToPath(new URL('../../vault/bin/run.js', import.meta.url));
const VSSH_BIN = fileURLToPath(new URL('../../vssh/bin/run.js', import.meta.url));

/** Fleet is a controller home (vault, vssh master, nodes.json) and real vssh daemons on loopback. */
export interface Fleet {
  home: string;
  env: Record<string, string>;
  pool: Pool;
  ports: Map<string, number>;
  stop(name: string): Promise<void>;
  start(name: string): Promise<void>;
  meshdb(args: string[], opts?: { env?: Record<string, string>; timeout?: number }): ReturnType<typeof execa>;
  close(): Promise<void>;
}

/** loopFleet makes a home with a vault and a vssh master, and starts `names` as in-process daemons. */
export async function loopFleet(names: string[]): Promise<Fleet> {
  const home = mkdtempSync(join(tmpdir(), 'meshdb-test-'));
  writeFileSync(join(home, 'pw'), 'test password\n', { mode: 0o600 });
  const env = { MESHPOP_HOME: home, SV_PASSWORD_FILE: join(home, 'pw'), VSSH_LOG_LEVEL: 'warn', NO_COLOR: '1' };
  await execa(process.execPath, [SV_BIN, 'init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1'], { env });
  await execa(process.execPath, [VSSH_BIN, 'keys', 'init'], { env });
  const vault = await openVault({ home, agent: false, env: { ...process.env, ...env } });
  const master = (await controllerMaster(vault)).master;
  await vault.close();
  const daemons = new Map<string, Daemon | undefined>();
  const ports = new Map<string, number>();
  const launch = (name: string, port: number): Promise<Daemon> => startDaemon({ key: deriveNodeKey(master, name), name, port, hosts: ['127.0.0.1'] });
  const listed: Record<string, { addresses: string[] }> = {};
  for (const name of names) {
    const d = await launch(name, 0);
    daemons.set(name, d);
    ports.set(name, d.port);
    listed[name] = { addresses: [`127.0.0.1:${d.port}`] };
  }
  mkdirSync(join(home, 'vssh'), { recursive: true });
  writeFileSync(join(home, 'vssh', 'nodes.json'), JSON.stringify(listed));
  const pool = new Pool({ home, master, retries: 0, connectTimeoutMs: 1000 });
  return {
    home,
    env,
    pool,
    ports,
    async stop(name) {
      await daemons.get(name)?.close();
      daemons.set(name, undefined);
    },
    async start(name) {
      if (!daemons.get(name)) daemons.set(name, await launch(name, ports.get(name)!));
    },
    meshdb(args, o = {}) {
      return execa(process.execPath, [MESHDB_BIN, ...args], { env: { ...env, ...o.env }, reject: false, stdin: 'ignore', timeout: o.timeout ?? 60_000 });
    },
    async close() {
      await pool.close();
      for (const d of daemons.values()) await d?.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** tree writes files (path -> content) under a fresh folder and returns it. */
export function tree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'meshdb-tree-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  return root;
}
