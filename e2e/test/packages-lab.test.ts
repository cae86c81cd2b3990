import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, lan, startEcho, tcpEcho, tokenFor, waitFor } from '../src/index.js';

// node-gyp builds the native modules against Debian's Node headers (as the repo's .npmrc says), never fetching them from nodejs.org.
const NODEDIR: Record<string, string> = existsSync('/usr/include/node/node.h') ? { npm_config_nodedir: '/usr' } : {};

// The one-line join, from the tarball as it will be from the registry: on a host of the lab that has no
// MeshPOP installed, `npm exec --package=<tarball> -- wire up --join TOKEN` installs wire (and the vault it
// uses) into npm's cache, builds its native modules, and joins the mesh.
//
// The lab's hosts reach nothing outside the lab, so the registry is stood in for by npm's cache: it is
// filled outside the lab (an install of the same tarballs with --ignore-scripts, into a folder then removed),
// and `npm exec --offline` inside the host resolves and installs from it, install scripts and all.

const isRoot = process.getuid?.() === 0;
const root = fileURLToPath(new URL('../..', import.meta.url));
/** SYSTEM_PATH is a machine's PATH with nothing of MeshPOP on it. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** run runs a command outside the lab to its end (without blocking the worker) and returns its exit code and output. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out: Buffer.concat(chunks).toString() });
    });
  });
}

describe.skipIf(!isRoot)('the one-line join from the wire tarball', () => {
  const work = mkdtempSync(join(tmpdir(), 'meshpop-npx-'));
  const cache = join(work, 'npm-cache');
  // This process's environment without what npx put there for the test runner (its project, its cache).
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  env.PATH = SYSTEM_PATH;
  env.npm_config_cache = cache;
  let mesh: Mesh;
  let fresh: Host;
  const tgz: Record<string, string> = {};

  beforeAll(async () => {
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packs, '--workspace', 'vault', '--workspace', 'wire'], root, process.env);
    expect(pack.code, pack.out).toBe(0);
    for (const p of JSON.parse(pack.out.slice(pack.out.indexOf('['))) as { name: string; filename: string }[]) tgz[p.name] = join(packs, p.filename);
    const warm = join(work, 'warm');
    mkdirSync(warm);
    writeFileSync(join(warm, 'package.json'), '{"name":"warm","private":true}');
    const fill = await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', tgz['@meshpop/vault']!, tgz['@meshpop/wire']!], warm, env);
    expect(fill.code, fill.out).toBe(0);
    rmSync(warm, { recursive: true, force: true });

    mesh = await lan(0);
    fresh = await mesh.lab.addHost('fresh', `${mesh.lab.prefix}-lan`, '192.168.77.20');
  }, 300_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('npm exec --package=<tarball> -- wire up --join TOKEN: the host joins and carries traffic', async () => {
    const { lab, hub } = mesh;
    const token = await tokenFor(lab, hub, 'fresh');
    const cwd = join(work, 'cwd');
    mkdirSync(cwd);
    // The host's environment and nothing else (env -i): its home and vault password as the lab gives them,
    // a PATH without this repository's bins, root's npm configuration, the test's cache; an empty working folder.
    const hostEnv: Record<string, string> = { ...fresh.env, PATH: SYSTEM_PATH, HOME: process.env.HOME ?? '/root', npm_config_cache: cache, npm_config_update_notifier: 'false', ...NODEDIR };
    // The wire tarball needs the vault's beside it until @meshpop/vault is on the registry.
    const oneLine = ['npm', 'exec', '--yes', '--offline', '--foreground-scripts', `--package=${tgz['@meshpop/vault']}`, `--package=${tgz['@meshpop/wire']}`, '--',
      'wire', 'up', '--join', token, '--interface', fresh.iface];
    const t0 = Date.now();
    const child = lab.start(fresh, 'env', ['-i', '-C', cwd, ...Object.entries(hostEnv).map(([k, v]) => `${k}=${v}`), ...oneLine], 'npm-exec');
    const log = (): string => lab.log(fresh, 'npm-exec').slice(-6000);

    const outcome = await waitFor('fresh to be online in the registry, or npm exec to end', async () => {
      if (child.exitCode !== null || child.signalCode !== null) return 'ended';
      const r = await lab.wire(hub, ['peers', '--json']);
      return r.code === 0 && (JSON.parse(r.stdout) as { name: string; status: string }[]).some((p) => p.name === 'fresh' && p.status === 'online') && 'online';
    }, 540_000, 2000).catch((err: Error) => { throw new Error(`${err.message}\n--- npm exec log:\n${log()}`); });
    expect(outcome, `npm exec ended (${child.exitCode ?? child.signalCode}):\n${log()}`).toBe('online');
    console.info(`packages-lab: npm exec ... wire up --join: online in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    // The wire that joined is the one npm exec installed into its cache, not this repository's.
    const pids = (await lab.exec(fresh, 'ip', ['netns', 'pids', fresh.ns])).stdout.split('\n').filter(Boolean);
    const wires = pids.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    }).filter((argv) => argv[2] === 'up' && argv.includes('--join'));
    expect(wires, `the wire up processes in fresh:\n${pids.join(' ')}`).toHaveLength(1);
    expect(wires[0]![1]).toMatch(new RegExp(`^${cache}/_npx/[0-9a-f]+/node_modules/\\.bin/wire$`));
    expect(realpathSync(wires[0]![1]!)).toMatch(/\/_npx\/[0-9a-f]+\/node_modules\/@meshpop\/wire\/bin\/run\.js$/);

    // better-sqlite3's prebuilt binary is on GitHub, out of the host's reach: node-gyp compiled it there.
    const full = lab.log(fresh, 'npm-exec');
    expect(full).toMatch(/prebuild-install warn install[^\n]*\n[\s\S]*Entering directory '[^']*\/better-sqlite3\/build'[\s\S]*gyp info ok/);

    // Traffic over the mesh: the host reaches the hub's mesh address.
    startEcho(lab, hub, '10.99.0.1');
    await waitFor('fresh to reach the hub over the mesh', async () => (await tcpEcho(lab, fresh, '10.99.0.1', 7000, 2000)).code === 0, 30_000, 500);
    expect(await tcpEcho(lab, fresh, '10.99.0.1')).toMatchObject({ code: 0, stdout: 'ping from fresh\n' });
    await lab.stop(child);
  }, 600_000);
});
