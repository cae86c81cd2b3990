import type { VsshClient } from '@meshpop/vssh/client';
import { absent, Absent, lines, mustSucceed, ParseError, runTool, ToolOptions } from './tool.js';

/** DPKG_ARGV lists every package dpkg knows, tab-separated, with its status abbreviation ("ii " is installed). */
export const DPKG_ARGV = ['dpkg-query', '-W', '--showformat=${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n'];
/** RPM_ARGV lists every installed rpm, tab-separated (epoch shown as (none) when unset). */
export const RPM_ARGV = ['rpm', '-qa', '--qf', '%{NAME}\\t%{EPOCH}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'];

/** Package is one installed package. */
export interface Package {
  name: string;
  version: string;
  arch: string;
}

/** parseDpkg reads DPKG_ARGV's lines, keeping installed packages (status "ii", or "hi" when held). */
export function parseDpkg(text: string): Package[] {
  const out: Package[] = [];
  for (const { n, text: line } of lines(text)) {
    const f = line.split('\t');
    if (f.length !== 4 || !f[0]) throw new ParseError('dpkg-query -W', n, line, 'not package, version, architecture and status');
    if (/^[ih]i/.test(f[3]!)) out.push({ name: f[0], version: f[1]!, arch: f[2]! });
  }
  return out;
}

/** parseRpm reads RPM_ARGV's lines (the version gets its epoch, "1:2.3-4", when it has one). */
export function parseRpm(text: string): Package[] {
  return lines(text).map(({ n, text: line }) => {
    const f = line.split('\t');
    if (f.length !== 4 || !f[0]) throw new ParseError('rpm -qa', n, line, 'not name, epoch, version-release and arch');
    const epoch = f[1] === '(none)' || f[1] === '' ? '' : `${f[1]}:`;
    return { name: f[0], version: epoch + f[2]!, arch: f[3]! };
  });
}

/** PackagesFacts are a node's installed packages, by which manager. */
export interface PackagesFacts {
  present: true;
  manager: 'dpkg' | 'rpm';
  packages: Package[];
}

/** readPackages asks dpkg, then rpm; a node with neither is an Absent. */
export async function readPackages(client: VsshClient, opts: ToolOptions = {}): Promise<PackagesFacts | Absent> {
  const node = client.target.name;
  const dpkg = await runTool(client, DPKG_ARGV, opts);
  if (dpkg !== 'missing') return { present: true, manager: 'dpkg', packages: parseDpkg(mustSucceed(node, DPKG_ARGV, dpkg).stdout) };
  const rpm = await runTool(client, RPM_ARGV, opts);
  if (rpm !== 'missing') return { present: true, manager: 'rpm', packages: parseRpm(mustSucceed(node, RPM_ARGV, rpm).stdout) };
  return absent(`no package list on ${node} (neither dpkg-query nor rpm is installed)`);
}
