import { printable } from './shell.js';

/**
 * The parsers of what enroll asks a host: `uname -sm`, /etc/os-release, `node --version`, and the
 * `--version` line of MeshPOP's oclif bins (`@meshpop/wire/0.1.0 linux-x64 node-v20.20.0`).
 */

/** Platform is a host's kernel and architecture as enroll takes them. */
export interface Platform {
  kernel: string;
  /** the architecture as uname says it (x86_64, aarch64) */
  machine: string;
  /** Node's name for it (x64, arm64) */
  arch: 'x64' | 'arm64';
}

/** OsRelease is what /etc/os-release says of the distribution. */
export interface OsRelease {
  id: string;
  idLike: string[];
  versionId: string;
  prettyName: string;
}

/** parseUname reads `uname -sm` ("Linux x86_64"), or says why the host is not one enroll can take. */
export function parseUname(text: string): Platform | { unsupported: string } {
  const [kernel = '', machine = ''] = text.trim().split(/\s+/);
  if (kernel !== 'Linux') return { unsupported: `it runs ${kernel || 'an unknown kernel'}; enroll takes Linux (x86_64 or arm64)` };
  if (machine === 'x86_64' || machine === 'amd64') return { kernel, machine, arch: 'x64' };
  if (machine === 'aarch64' || machine === 'arm64') return { kernel, machine, arch: 'arm64' };
  return { unsupported: `its architecture is ${machine || 'unknown'}; enroll takes x86_64 or arm64` };
}

/** parseOsRelease reads os-release's KEY=value lines (values quoted or not). */
export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    kv.set(m[1]!, v);
  }
  const id = printable(kv.get('ID') ?? 'linux').slice(0, 40);
  return { id, idLike: (kv.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean), versionId: kv.get('VERSION_ID') ?? '', prettyName: printable(kv.get('PRETTY_NAME') ?? id).slice(0, 80) };
}

/** isDebianLike tells a distribution that installs with apt (Debian, Ubuntu and their kin). */
export function isDebianLike(os: OsRelease): boolean {
  return os.id === 'debian' || os.id === 'ubuntu' || os.idLike.includes('debian') || os.idLike.includes('ubuntu');
}

/** Version is major.minor.patch. */
export type Version = [number, number, number];

/** parseVersion reads "v20.19.1" or "20.19.1" (or "18.19.0+dfsg-6"); undefined when it is none. */
export function parseVersion(text: string): Version | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** atLeast compares versions. */
export function atLeast(v: Version, min: Version): boolean {
  for (let i = 0; i < 3; i++) if (v[i]! !== min[i]!) return v[i]! > min[i]!;
  return true;
}

/** NODE_MIN: the oldest Node the MeshPOP packages run on (their engines). */
export const NODE_MIN: Version = [20, 19, 0];

/** parseBinVersion reads an oclif `--version` line into the package and its version, or undefined. */
export function parseBinVersion(text: string): { pkg: string; version: string } | undefined {
  const m = /^(@meshpop\/[a-z]+)\/(\d+\.\d+\.\d+[^\s]*)\s/m.exec(text.trim() + ' ');
  return m ? { pkg: m[1]!, version: m[2]! } : undefined;
}
