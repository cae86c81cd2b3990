import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  { dir: 'mpop', bin: 'mpop' },
];

describe.each(packages)('@meshpop/$dir', ({ dir, bin }) => {
  const pkg = JSON.parse(readFileSync(`${root}/${dir}/package.json`, 'utf8'));

  it('declares its bin, exports, types, files and engines', () => {
    expect(pkg.name).toBe(`@meshpop/${dir}`);
    expect(pkg.bin).toEqual({ [bin]: './bin/run.js' });
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
    expect(files).toEqual(expect.arrayContaining(['bin/run.js', 'dist/index.js', 'dist/index.d.ts', 'oclif.manifest.json', 'README.md', 'package.json']));
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });
});
