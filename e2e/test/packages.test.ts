import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every package builds, answers --help from its bin, and packs into a tarball that carries its bin,
// its built code, its oclif manifest and its README.

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
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });
});

describe('the @meshpop/vault tarball', () => {
  it('installs on its own from npm pack and runs sv', () => {
    const work = mkdtempSync(join(tmpdir(), 'meshpop-pack-'));
    try {
      const pack = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--workspace', 'vault', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
      expect(pack.status, pack.stderr).toBe(0);
      const tarball = join(work, JSON.parse(pack.stdout)[0].filename);
      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
      const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app, encoding: 'utf8' });
      expect(install.status, install.stderr).toBe(0);
      const sv = join(app, 'node_modules', '.bin', 'sv');
      const env = { ...process.env, MESHPOP_HOME: join(work, 'home'), SV_PASSWORD_FILE: join(work, 'pw') };
      writeFileSync(env.SV_PASSWORD_FILE, 'pw');
      const run = (args: string[], input = ''): string => {
        const r = spawnSync(sv, args, { env, input, encoding: 'utf8' });
        expect(r.status, `sv ${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      run(['init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1']);
      run(['set', 'from/tarball'], 'it works');
      expect(run(['get', 'from/tarball'])).toBe('it works');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
