import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { openVault } from '@meshpop/vault';
import { controllerMaster, deriveNodeKey, Pool, type PolicyRules } from '@meshpop/vssh';
import { makeHome, MPOP_BIN } from '../fleet.js';

const DAEMON = fileURLToPath(new URL('./ns-daemon.mjs', import.meta.url));

/** NsNode is a node whose daemon runs in its own mount namespace: `root` (on this machine) is what it sees at the fleet's `base`. */
export interface NsNode {
  name: string;
  port: number;
  root: string;
  proc?: ResultPromise;
}

/** NsFleet is a controller home and n real vssh daemons (child processes), each seeing its own folder at `base`. */
export interface NsFleet {
  home: string;
  env: Record<string, string>;
  /** the path every node sees as its own (deploy to `${base}/site`) */
  base: string;
  nodes: NsNode[];
  pool: Pool;
  /** at maps a path under base to where node `name`'s copy is on this machine */
  at(name: string, path: string): string;
  stop(name: string): Promise<void>;
  /** addSilent adds a node whose port accepts TCP and never says a word */
  addSilent(name: string): Promise<void>;
  start(name: string): Promise<void>;
  mpop(args: string[], opts?: { timeout?: number }): ReturnType<typeof execa>;
  close(): Promise<void>;
}

/** nsFleet starts `names` as daemons in private mount namespaces (root needed: unshare -m, mount --bind). */
export async function nsFleet(names: string[], opts: { policy?: (name: string) => PolicyRules | undefined } = {}): Promise<NsFleet> {
  const { home, env } = await makeHome();
  const vault = await openVault({ home, agent: false, env: { ...process.env, ...env } });
  const master = (await controllerMaster(vault)).master;
  await vault.close();
  const work = mkdtempSync(join(tmpdir(), 'mpop-deploy-'));
  const base = join(work, 'base');
  mkdirSync(base);
  const nodes: NsNode[] = names.map((name) => ({ name, port: 0, root: join(work, 'node-' + name) }));
  const launch = async (n: NsNode): Promise<void> => {
    mkdirSync(n.root, { recursive: true });
    const policy = opts.policy?.(n.name);
    const proc = execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && exec "$3" "$4"', 'sh', n.root, base, process.execPath, DAEMON], {
      env: { KEY: Buffer.from(deriveNodeKey(master, n.name)).toString('hex'), NAME: n.name, PORT: String(n.port), VSSH_LOG_LEVEL: 'warn', ...(policy ? { POLICY: JSON.stringify(policy) } : {}) },
      reject: false,
      stdin: 'ignore',
      buffer: false,
    });
    const line = await new Promise<string>((resolve, reject) => {
      let got = '';
      proc.stdout!.on('data', (b: Buffer) => {
        got += b.toString();
        if (got.includes('\n')) resolve(got.split('\n')[0]!);
      });
      proc.stderr!.on('data', (b: Buffer) => process.stderr.write(b));
      void proc.then((r) => reject(new Error(`the daemon of ${n.name} ended: exit ${r.exitCode}`)));
    });
    n.port = (JSON.parse(line) as { port: number }).port;
    n.proc = proc;
  };
  for (const n of nodes) await launch(n);
  const writeNodes = (): void => {
    mkdirSync(join(home, 'vssh'), { recursive: true });
    writeFileSync(join(home, 'vssh', 'nodes.json'), JSON.stringify(Object.fromEntries(nodes.map((n) => [n.name, { addresses: [`127.0.0.1:${n.port}`] }])), null, 2));
  };
  writeNodes();
  const silent: Server[] = [];
  const sockets = new Set<Socket>();
  const pool = new Pool({ home, master, retries: 0 });
  const fleet: NsFleet = {
    home,
    env,
    base,
    nodes,
    pool,
    at: (name, path) => join(nodes.find((n) => n.name === name)!.root, path.slice(base.length)),
    async stop(name) {
      const n = nodes.find((x) => x.name === name)!;
      n.proc?.kill('SIGKILL');
      await n.proc;
      n.proc = undefined;
    },
    async start(name) {
      const n = nodes.find((x) => x.name === name)!;
      if (!n.proc) await launch(n);
    },
    async addSilent(name) {
      const server = createServer((sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => undefined);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      silent.push(server);
      nodes.push({ name, port: (server.address() as { port: number }).port, root: join(work, 'node-' + name) });
      writeNodes();
    },
    mpop(args, o = {}) {
      return execa(process.execPath, [MPOP_BIN, ...args], { env, reject: false, stdin: 'ignore', timeout: o.timeout ?? 60_000 });
    },
    async close() {
      await pool.close();
      for (const n of nodes) if (n.proc) await fleet.stop(n.name);
      for (const sock of sockets) sock.destroy();
      for (const server of silent) await new Promise((r) => server.close(r));
      rmSync(home, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
  return fleet;
}
