import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { MpopError } from '../errors.js';

/** MESHPOP_PACKAGES are what a node runs, with the bin each gives: the vault (sv), wire and vssh. */
export const MESHPOP_PACKAGES = [
  { pkg: '@meshpop/vault', bin: 'sv' },
  { pkg: '@meshpop/wire', bin: 'wire' },
  { pkg: '@meshpop/vssh', bin: 'vssh' },
] as const;

/** MeshpopBin is one of the node's bins: sv, wire, vssh. */
export type MeshpopBin = (typeof MESHPOP_PACKAGES)[number]['bin'];

/** Tarball is a packed MeshPOP package, ready to upload. */
export interface Tarball {
  pkg: string;
  version: string;
  file: string;
  sha256: string;
}

const require = createRequire(import.meta.url);

/** packageDir is where a MeshPOP package this controller runs lies (the workspace folder, or node_modules). */
function packageDir(pkg: string): string {
  return dirname(require.resolve(`${pkg}/package.json`));
}

/** controllerVersions are the versions of vault, wire and vssh this controller runs: what a node gets. */
export function controllerVersions(): Record<string, string> {
  return Object.fromEntries(MESHPOP_PACKAGES.map(({ pkg }) => [pkg, (JSON.parse(readFileSync(join(packageDir(pkg), 'package.json'), 'utf8')) as { version: string }).version]));
}

/**
 * packMeshpop packs vault, wire and vssh with `npm pack` (their built code as it is here; no build is run)
 * into `dest`, and returns each tarball with its SHA-256, to be checked on the host after the upload.
 */
export async function packMeshpop(dest: string, signal?: AbortSignal): Promise<Tarball[]> {
  const out: Tarball[] = [];
  for (const { pkg } of MESHPOP_PACKAGES) {
    const dir = packageDir(pkg);
    if (!existsSync(join(dir, 'dist', 'index.js'))) throw new MpopError('MPOP_ENROLL', `${pkg} at ${dir} is not built (no dist/): run npm run build there first.`);
    const r = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest, dir], { reject: false, cancelSignal: signal, env: { npm_config_loglevel: 'error' } });
    if (r.exitCode !== 0) throw new MpopError('MPOP_ENROLL', `npm pack ${pkg} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const info = (JSON.parse(r.stdout) as { filename: string; version: string }[])[0]!;
    const file = join(dest, basename(info.filename));
    out.push({ pkg, version: info.version, file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') });
  }
  return out;
}

/** nodePackageJson is the package.json of the folder the node's packages are installed in: each from its uploaded tarball. */
export function nodePackageJson(tarballs: readonly Tarball[]): string {
  const deps = Object.fromEntries(tarballs.map((t) => [t.pkg, `file:tarballs/${basename(t.file)}`]));
  return JSON.stringify({ name: 'meshpop-node', private: true, description: 'MeshPOP on this node, installed by mpop enroll', dependencies: deps }, null, 2) + '\n';
}
