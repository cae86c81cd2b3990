import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// node-gyp builds the native modules against Debian's Node headers (as the repo's .npmrc says), never fetching them from nodejs.org.
const NODEDIR: Record<string, string> = existsSync('/usr/include/node/node.h') ? { npm_config_nodedir: '/usr' } : {};

// Every package builds, answers --help from its bin, and packs into a tarball that carries its bin,
// its built code, its oclif manifest and its README. Then the tarballs install as a user would install them
// from the registry, in empty folders: the vault alone; a node's three (vault, wire, vssh) without mpop,
// meshdb, Chroma or the MCP SDK; all five, with mpop-mcp answering a real MCP client.

const root = fileURLToPath(new URL('../..', import.meta.url));
const packages = [
  { dir: 'vault', bin: 'sv' },
  { dir: 'wire', bin: 'wire' },
  { dir: 'vssh', bin: 'vssh' },
  { dir: 'meshdb', bin: 'meshdb' },
  { dir: 'mpop', bin: 'mpop', extraBins: { 'mpop-mcp': './bin/mcp.js' } },
];

describe.each(packages)('@meshpop/$dir', ({ dir, bin, extraBins = {} }: { dir: string; bin: string; extraBins?: Record<string, string> }) => {
  const pkg = JSON.parse(readFileSync(`${root}/${dir}/package.json`, 'utf8'));

  it('declares its bin, exports, types, files and engines', () => {
    expect(pkg.name).toBe(`@meshpop/${dir}`);
    expect(pkg.bin).toEqual({ [bin]: './bin/run.js', ...extraBins });
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.engines.node).toBe('>=20.19');
    expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'dist', 'oclif.manifest.json']));
  });

  it('answers --help from its bin', () => {
    const r = spawnSync(process.execPath, [`${root}/${dir}/bin/run.js`, '--help'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`$ ${bin} `);
    expect(r.stdout).toContain(pkg.description.split(':')[0]);
  });

  it('packs its bin, built code, manifest and README', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--workspace', dir], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path);
    const extra = Object.values(extraBins).map((b) => b.slice(2));
    expect(files).toEqual(expect.arrayContaining([...extra, 'bin/run.js', 'dist/index.js', 'dist/index.d.ts', 'oclif.manifest.json', 'README.md', 'package.json']));
    // No TypeScript sources, tests or source maps (they point at src/, which is not shipped); static files a
    // package serves from src/ (mpop's dashboard page) are named in its `files`.
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.endsWith('.map'))).toEqual([]);
    for (const f of files.filter((f) => f.startsWith('src/'))) expect(pkg.files.some((d: string) => f.startsWith(`${d}/`)), f).toBe(true);
  });
});


/** Run is how a command ended, and how long it took. */
interface Run {
  code: number;
  out: string;
  ms: number;
}

/**
 * run runs a command to its end without blocking the test worker (an install takes minutes); stdout and
 * stderr are kept together, in order, as a log.
 */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out: Buffer.concat(chunks).toString(), ms: Date.now() - t0 });
    });
  });
}

/**
 * npmEnv is this process's environment without the npm_* variables that npx put there for the test runner
 * (its project as local prefix, its cache, its allow-scripts), and with a cache of the test's own: an install
 * here is a user's install in an empty folder, and leaves this machine's npm cache alone.
 */
function npmEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  // The bins of this repository (npx puts node_modules/.bin on PATH) must not stand in for the installed ones.
  env.PATH = (process.env.PATH ?? '/usr/bin:/bin').split(':').filter((d) => !d.includes('node_modules')).join(':');
  env.npm_config_cache = cache;
  env.npm_config_update_notifier = 'false';
  Object.assign(env, NODEDIR);
  return env;
}

/** sizeOf is the bytes a folder holds (symlinks not followed). */
function sizeOf(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

/** heaviest lists the largest packages an install put in node_modules (scoped ones by their full name), in MB. */
function heaviest(app: string, n = 6): string {
  const nm = join(app, 'node_modules');
  const rows: [string, number][] = [];
  for (const e of readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) for (const s of readdirSync(join(nm, e))) rows.push([`${e}/${s}`, sizeOf(join(nm, e, s))]);
    else rows.push([e, sizeOf(join(nm, e))]);
  }
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  rows.sort((a, b) => b[1] - a[1]);
  return `${rows.length} packages, ${mb(sizeOf(nm))} MB; heaviest: ${rows.slice(0, n).map(([k, b]) => `${k} ${mb(b)}`).join(', ')}`;
}

/** installed is every package in an app's node_modules (nested ones too) from npm's own record of the tree. */
function installed(app: string): Record<string, { version: string; resolved?: string }> {
  return JSON.parse(readFileSync(join(app, 'node_modules', '.package-lock.json'), 'utf8')).packages;
}

/** copiesOf lists where a package sits in an installed tree (a nested copy too). */
function copiesOf(tree: Record<string, unknown>, name: string): string[] {
  return Object.keys(tree).filter((k) => k === `node_modules/${name}` || k.endsWith(`/node_modules/${name}`));
}

/**
 * loadEverything imports, inside an app, each package's library surface and every one of its oclif commands
 * (--help reads the manifest and loads none of them): a dependency missing from a tarball's package.json shows
 * here as ERR_MODULE_NOT_FOUND.
 */
const loadEverything = `
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.js') ? [join(d, e.name)] : []);
let n = 0;
for (const spec of process.argv.slice(1)) {
  await import(spec);
  n++;
  const pkg = spec.split('/').slice(0, 2).join('/');
  if (pkg !== spec) continue;
  for (const f of walk(join('node_modules', pkg, 'dist', 'commands'))) { await import(pathToFileURL(f).href); n++; }
}
console.log('loaded', n);
`;

describe('the tarballs, installed in empty folders', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  const tarball: Record<string, string> = {};
  const times: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'meshpop-pack-'));
    const packs = join(work, 'packs');
    // One npm cache for every install of this file: each package is fetched from the registry once.
    env = npmEnv(join(work, 'npm-cache'));
    mkdirSync(packs);
    const r = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packs, ...packages.flatMap((p) => ['--workspace', p.dir])], { cwd: root, env: process.env, timeoutMs: 120_000 });
    expect(r.code, r.out).toBe(0);
    for (const p of JSON.parse(r.out.slice(r.out.indexOf('['))) as { name: string; filename: string }[]) tarball[p.name.replace('@meshpop/', '')] = join(packs, p.filename);
    expect(Object.keys(tarball).sort()).toEqual(packages.map((p) => p.dir).sort());
  }, 120_000);
  afterAll(() => {
    if (times.length) console.info(`packages.test: ${times.join('; ')}`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** app makes an empty folder with a package.json and installs the tarballs of `dirs` into it, in one command. */
  async function app(name: string, dirs: string[]): Promise<{ dir: string; log: string }> {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }));
    // One command for all the tarballs: the dependencies between them (`"@meshpop/vault": "^0.1.0"`) are met
    // by the tarballs, not looked for on the registry. --foreground-scripts keeps the native builds' output.
    const r = await run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--loglevel=http', ...dirs.map((d) => tarball[d]!)], { cwd: dir, env });
    writeFileSync(join(work, `${name}-install.log`), r.out);
    expect(r.code, r.out.slice(-4000)).toBe(0);
    times.push(`${name} (${dirs.join(' ')}) installed in ${(r.ms / 1000).toFixed(0)} s: ${heaviest(dir)}`);
    // Every MeshPOP package came from its tarball, one copy each, and nothing else of ours was pulled in.
    const tree = installed(dir);
    const ours = Object.entries(tree).filter(([k]) => k.includes('node_modules/@meshpop/'));
    expect(ours.map(([k]) => k).sort()).toEqual(dirs.map((d) => `node_modules/@meshpop/${d}`).sort());
    for (const [k, v] of ours) expect(v.resolved, k).toBe(`file:../packs/${tarball[k.split('/').pop()!]!.split('/').pop()}`);
    return { dir, log: r.out };
  }

  const bin = (dir: string, name: string): string => join(dir, 'node_modules', '.bin', name);

  it('the vault installs on its own and runs sv', async () => {
    const { dir } = await app('vault-only', ['vault']);
    const home = { ...env, MESHPOP_HOME: join(work, 'vault-home'), SV_PASSWORD_FILE: join(work, 'pw') };
    writeFileSync(home.SV_PASSWORD_FILE!, 'pw');
    const sv = (args: string[], input = ''): string => {
      const r = spawnSync(bin(dir, 'sv'), args, { env: home, input, encoding: 'utf8' });
      expect(r.status, `sv ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    sv(['init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1']);
    sv(['set', 'from/tarball'], 'it works');
    expect(sv(['get', 'from/tarball'])).toBe('it works');
  }, 600_000);

  describe('a node: vault, wire and vssh only', () => {
    let node: { dir: string; log: string };

    it('installs from the three tarballs, without mpop, meshdb, Chroma or the MCP SDK', async () => {
      node = await app('node', ['vault', 'wire', 'vssh']);
      const tree = installed(node.dir);
      for (const heavy of ['@meshpop/mpop', '@meshpop/meshdb', 'chromadb', 'chromadb-js-bindings-linux-x64-gnu', '@modelcontextprotocol/sdk', '@energetic-ai/core', 'ssh2']) {
        expect(copiesOf(tree, heavy), heavy).toEqual([]);
      }
    }, 600_000);

    it('built its native modules here, from source where no prebuilt binary could be fetched', async () => {
      // better-sqlite3's prebuild-install asks GitHub, which this machine cannot reach: it must fall back to node-gyp.
      expect(existsSync(join(node.dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
      expect(existsSync(join(node.dir, 'node_modules/node-pty/build/Release/pty.node'))).toBe(true);
      // A prebuilt binary unpacks only the .node file; objects beside it mean node-gyp compiled it on this machine.
      if (/prebuild-install warn install/.test(node.log)) expect(existsSync(join(node.dir, 'node_modules/better-sqlite3/build/Release/obj.target'))).toBe(true);
      const r = await run(process.execPath, ['-e', [
        "const db = new (require('better-sqlite3'))(':memory:');",
        "const pty = require('node-pty').spawn('/bin/echo', ['from a pty'], {});",
        "let out = ''; pty.onData((d) => out += d);",
        "pty.onExit(async () => { const argon2 = require('argon2'); const h = await argon2.hash('x', { type: argon2.argon2id, memoryCost: 1024, timeCost: 1 });",
        "  console.log(db.prepare('select sqlite_version() v').get().v, out.trim(), await argon2.verify(h, 'x')); });",
      ].join('\n')], { cwd: node.dir, env, timeoutMs: 30_000 });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/^3\.\d+\.\d+ from a pty true\n$/);
    });

    it('runs wire, vssh and sv from node_modules/.bin', async () => {
      for (const name of ['wire', 'vssh', 'sv']) {
        const r = await run(bin(node.dir, name), ['--help'], { cwd: node.dir, env, timeoutMs: 30_000 });
        expect(r.code, `${name} --help: ${r.out}`).toBe(0);
        expect(r.out).toContain(`$ ${name} `);
      }
    });

    it('loads the libraries and every command of the three', async () => {
      const specs = ['@meshpop/vault', '@meshpop/vault/light', '@meshpop/wire', '@meshpop/vssh', '@meshpop/vssh/client'];
      const r = await run(process.execPath, ['--input-type=module', '-e', loadEverything, ...specs], { cwd: node.dir, env, timeoutMs: 60_000 });
      expect(r.code, r.out).toBe(0);
      expect(Number(/loaded (\d+)/.exec(r.out)?.[1])).toBeGreaterThan(20);
    });
  });

  describe('all five', () => {
    let full: { dir: string; log: string };

    it('install together from their tarballs', async () => {
      full = await app('full', ['vault', 'wire', 'vssh', 'meshdb', 'mpop']);
    }, 600_000);

    it('run every bin from node_modules/.bin', async () => {
      for (const name of ['wire', 'vssh', 'sv', 'meshdb', 'mpop']) {
        const r = await run(bin(full.dir, name), ['--help'], { cwd: full.dir, env, timeoutMs: 30_000 });
        expect(r.code, `${name} --help: ${r.out}`).toBe(0);
        expect(r.out).toContain(`$ ${name} `);
      }
    });

    it('load the libraries, their subpath exports and every command', async () => {
      const specs = ['@meshpop/vault', '@meshpop/wire', '@meshpop/vssh', '@meshpop/meshdb', '@meshpop/meshdb/semantic', '@meshpop/mpop', '@meshpop/mpop/mcp'];
      const r = await run(process.execPath, ['--input-type=module', '-e', loadEverything, ...specs], { cwd: full.dir, env, timeoutMs: 120_000 });
      expect(r.code, r.out).toBe(0);
      expect(Number(/loaded (\d+)/.exec(r.out)?.[1])).toBeGreaterThan(50);
    }, 120_000);

    it('serve the dashboard page and its vendor files from the installed mpop', async () => {
      const assets = pathToFileURL(join(full.dir, 'node_modules/@meshpop/mpop/dist/dashboard/assets.js')).href;
      const r = await run(process.execPath, ['--input-type=module', '-e', `const { files, index, login } = (await import(${JSON.stringify(assets)})).loadAssets(); console.log([...files.keys()].sort().join(' '), index.length > 0, login.length > 0)`], { cwd: full.dir, env, timeoutMs: 30_000 });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('/assets/app.js');
      expect(r.out).toContain('/vendor/uplot.js /vendor/uplot.css'.split(' ').sort().join(' '));
      expect(r.out.trim()).toMatch(/ true true$/);
    });

    it('mpop-mcp answers an MCP client: initialize, tools/list, and its MCP App resource', async () => {
      const version = JSON.parse(readFileSync(join(full.dir, 'node_modules/@meshpop/mpop/package.json'), 'utf8')).version;
      const client = new Client({ name: 'packages-test', version: '1.0.0' });
      const serverEnv = { PATH: env.PATH!, HOME: join(work, 'mcp-home'), MESHPOP_HOME: join(work, 'mcp-home') };
      mkdirSync(serverEnv.HOME, { mode: 0o700 });
      await client.connect(new StdioClientTransport({ command: bin(full.dir, 'mpop-mcp'), args: [], cwd: full.dir, env: serverEnv, stderr: 'pipe' }));
      try {
        expect(client.getServerVersion()).toMatchObject({ name: 'mpop-mcp', version });
        const { tools } = await client.listTools();
        expect(tools.length).toBeGreaterThan(0);
        expect(tools.map((t) => t.name)).toContain('mpop_exec');
        // the MCP App's document is built from files the tarball must carry (src/dashboard/app, page/util.js, uPlot, ext-apps)
        const app = (await client.readResource({ uri: 'ui://mpop/dashboard.html' })).contents[0] as { mimeType: string; text: string };
        expect(app.mimeType).toBe('text/html;profile=mcp-app');
        expect(app.text).toContain('globalThis.McpExtApps=');
        expect(app.text).toContain('mpop_dashboard');
      } finally {
        await client.close();
      }
    }, 60_000);
  });
});

describe('changesets: each package is released on its own', () => {
  const five = packages.map((p) => `@meshpop/${p.dir}`).sort();
  const changeset = join(root, 'node_modules', '.bin', 'changeset');

  it('versions every package alone: nothing fixed or linked, internal dependents patched, e2e ignored', () => {
    const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ fixed: [], linked: [], updateInternalDependencies: 'patch', ignore: ['@meshpop/e2e'], access: 'public', baseBranch: 'main' });
    expect(JSON.parse(readFileSync(join(root, 'e2e', 'package.json'), 'utf8')).private).toBe(true);
  });

  it('changeset status reads the pending changesets, offline, naming only the five packages', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'meshpop-cs-')), 'status.json');
    try {
      const r = await run(changeset, ['status', `--output=${out}`], { cwd: root, env: process.env, timeoutMs: 60_000 });
      expect(r.code, r.out).toBe(0);
      const { releases } = JSON.parse(readFileSync(out, 'utf8')) as { releases: { name: string; type: string; oldVersion: string; newVersion: string }[] };
      // An ignored package is listed with type "none" (its dependencies move under it) and is never bumped.
      for (const rel of releases) {
        if (rel.type === 'none') expect(rel.newVersion, rel.name).toBe(rel.oldVersion);
        else expect(five).toContain(rel.name);
      }
      expect(releases.find((rel) => rel.name === '@meshpop/e2e')?.type ?? 'none').toBe('none');
    } finally {
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });

  it('changeset version, on a copy of the workspace: a minor vault patches its dependents; a minor mpop moves mpop alone', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'meshpop-cs-'));
    try {
      for (const d of [...packages.map((p) => p.dir), 'e2e', '.changeset']) mkdirSync(join(copy, d));
      for (const f of ['package.json', '.changeset/config.json', ...packages.map((p) => `${p.dir}/package.json`), 'e2e/package.json']) {
        writeFileSync(join(copy, f), readFileSync(join(root, f)));
      }
      // The changelog generator the config names is resolved from the project.
      spawnSync('ln', ['-s', join(root, 'node_modules'), join(copy, 'node_modules')]);
      const versions = (): Record<string, string> => Object.fromEntries([...packages.map((p) => p.dir), 'e2e'].map((d) => [d, JSON.parse(readFileSync(join(copy, d, 'package.json'), 'utf8')).version]));
      const before = versions();
      const bump = (semver: (v: string) => string) => (d: string): string => semver(before[d]!);
      const patch = (v: string): string => v.replace(/\d+$/, (n) => String(Number(n) + 1));
      const minor = (v: string): string => v.replace(/^(\d+)\.(\d+)\.\d+$/, (_, a, b) => `${a}.${Number(b) + 1}.0`);

      writeFileSync(join(copy, '.changeset', 'vault-change.md'), '---\n"@meshpop/vault": minor\n---\n\nvault: a change.\n');
      let r = await run(changeset, ['version'], { cwd: copy, env: process.env, timeoutMs: 60_000 });
      expect(r.code, r.out).toBe(0);
      const first = versions();
      expect(first).toEqual({ vault: bump(minor)('vault'), wire: bump(patch)('wire'), vssh: bump(patch)('vssh'), meshdb: bump(patch)('meshdb'), mpop: bump(patch)('mpop'), e2e: before.e2e });
      expect(JSON.parse(readFileSync(join(copy, 'wire', 'package.json'), 'utf8')).dependencies['@meshpop/vault']).toBe(`^${first.vault}`);
      expect(readFileSync(join(copy, 'vault', 'CHANGELOG.md'), 'utf8')).toContain('vault: a change.');

      writeFileSync(join(copy, '.changeset', 'mpop-change.md'), '---\n"@meshpop/mpop": minor\n---\n\nmpop: a change.\n');
      r = await run(changeset, ['version'], { cwd: copy, env: process.env, timeoutMs: 60_000 });
      expect(r.code, r.out).toBe(0);
      expect(versions()).toEqual({ ...first, mpop: minor(first.mpop!) });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
