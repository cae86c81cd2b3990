import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MpopError } from '../errors.js';
import { parseBinVersion } from './probe.js';
import { MESHPOP_PACKAGES, MeshpopBin, nodePackageJson, packMeshpop, Tarball } from './packages.js';
import { RemoteHost, tail } from './remote.js';

/** InstalledBin is a MeshPOP bin on the host: its path (symlinks followed) and version, or absent. */
export interface InstalledBin {
  bin: MeshpopBin;
  pkg: string;
  path?: string;
  version?: string;
}

/** findBins looks for sv, wire and vssh in `prefix`/bin, then on the host's PATH, and asks each its version. */
export async function findBins(host: RemoteHost, prefix: string): Promise<InstalledBin[]> {
  const out: InstalledBin[] = [];
  for (const { pkg, bin } of MESHPOP_PACKAGES) {
    const r = await host.sh('PATH="$1/bin:$PATH"; p=$(command -v "$2") || exit 3; p=$(readlink -f "$p"); echo "$p"; "$p" --version', [prefix, bin]);
    const [path, ...rest] = r.stdout.trim().split('\n');
    const v = r.code === 0 ? parseBinVersion(rest.join('\n')) : undefined;
    out.push({ bin, pkg, ...(path && v?.pkg === pkg ? { path, version: v.version } : {}) });
  }
  return out;
}

/** InstallReport says what the packages step did. */
export interface InstallReport {
  action: 'present' | 'installed' | 'skipped';
  bins: Record<MeshpopBin, string>;
  versions: Record<string, string>;
  /** where they were installed (the folder with package.json and node_modules) */
  dir?: string;
}

/** wanted tells which bins are missing or at another version than the controller's. */
export function outdated(bins: readonly InstalledBin[], want: Record<string, string>): InstalledBin[] {
  return bins.filter((b) => !b.path || b.version !== want[b.pkg]);
}

/**
 * installPackages packs vault, wire and vssh here, uploads the tarballs over SFTP, checks their SHA-256
 * on the host, and installs them as root into `prefix`/lib/meshpop (one folder, so wire and vssh take the
 * vault from the same tarballs, not the registry) with bins linked into `prefix`/bin. Their dependencies
 * come from the npm registry the host is configured for; a host that cannot reach it is told so first.
 */
export async function installPackages(host: RemoteHost, prefix: string, opts: { signal?: AbortSignal; onDetail?: (text: string) => void } = {}): Promise<{ dir: string; tarballs: Tarball[] }> {
  const say = opts.onDetail ?? ((): void => {});
  const npm = await host.sh('command -v npm');
  if (npm.code !== 0) throw new MpopError('MPOP_ENROLL', `${host.label} has node but no npm: install npm there (Debian: apt-get install npm), or enroll with --install-node.`);
  const registry = (await host.run(['npm', 'config', 'get', 'registry'])).stdout.trim() || 'https://registry.npmjs.org/';
  say(`checking that ${host.label} reaches ${registry}`);
  const ping = await host.sh('timeout 40 npm ping --fetch-retries=0 --fetch-timeout=20000', [], { timeoutMs: 60_000 });
  if (ping.code !== 0) {
    throw new MpopError('MPOP_ENROLL', `${host.label} cannot reach the npm registry ${registry} (${tail(ping.stderr, 2) || `npm ping exited ${ping.code}`}); the MeshPOP packages' dependencies come from it. Let it reach the registry (or a mirror: npm config set registry URL), or install the packages there yourself and enroll with --skip-install.`);
  }
  const local = mkdtempSync(join(tmpdir(), 'mpop-enroll-'));
  const remoteTmp = (await host.must('making a temporary folder', ['mktemp', '-d', '/tmp/mpop-enroll.XXXXXX'])).trim();
  try {
    const tarballs = await uploadTarballs(host, local, remoteTmp, say, opts.signal);
    const dir = `${prefix}/lib/meshpop`;
    say(`npm install in ${dir} (native modules may build for a minute or two)`);
    await host.mustSh(
      `npm install in ${dir}`,
      'set -e; install -d -m 0755 "$2/tarballs" "$3/bin"; cp "$1"/*.tgz "$2/tarballs/"; cp "$1/package.json" "$2/package.json"; chmod -R a+rX "$2"; ' +
        'cd "$2"; npm install --omit=dev --no-audit --no-fund --loglevel=error >"$2/install.log" 2>&1 || { tail -n 15 "$2/install.log" >&2; exit 1; }; ' +
        'for b in sv:vault wire:wire vssh:vssh; do ln -sfn "$2/node_modules/@meshpop/${b#*:}/bin/run.js" "$3/bin/${b%%:*}"; done',
      [remoteTmp, dir, prefix],
      { root: true, timeoutMs: 20 * 60_000, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    return { dir, tarballs };
  } finally {
    rmSync(local, { recursive: true, force: true });
    await host.run(['rm', '-rf', remoteTmp]).catch(() => undefined);
  }
}

/**
 * uploadTarballs packs vault, wire and vssh into `local`, uploads them and their package.json into the host's
 * `remoteDir` over SFTP, and checks each tarball's SHA-256 there (MPOP_ENROLL when one differs).
 */
export async function uploadTarballs(host: RemoteHost, local: string, remoteDir: string, say: (text: string) => void = () => {}, signal?: AbortSignal): Promise<Tarball[]> {
  say('packing vault, wire and vssh');
  const tarballs = await packMeshpop(local, signal);
  writeFileSync(join(local, 'package.json'), nodePackageJson(tarballs));
  for (const t of tarballs) {
    say(`uploading ${basename(t.file)}`);
    await host.session.upload(t.file, `${remoteDir}/${basename(t.file)}`);
  }
  await host.session.upload(join(local, 'package.json'), `${remoteDir}/package.json`);
  const sums = tarballs.map((t) => `${t.sha256}  ${basename(t.file)}`).join('\n') + '\n';
  const verify = await host.sh('cd "$1" && sha256sum -c --quiet -', [remoteDir], { input: sums });
  if (verify.code !== 0) throw new MpopError('MPOP_ENROLL', `the uploaded tarballs on ${host.label} do not match what was sent (${tail(verify.stdout + verify.stderr, 2)}); try again.`);
  return tarballs;
}
