import { execa } from 'execa';
import { WireError } from '../errors.js';

const PACKAGE_OF: Record<string, string> = {
  wg: 'wireguard-tools',
  'wireguard-go': 'wireguard-go',
  ip: 'iproute2',
  ping: 'iputils-ping',
  openssl: 'openssl',
  nft: 'nftables',
};

/** missingTool is the error for a program that is not installed, naming the Debian package that has it. */
export function missingTool(cmd: string): WireError {
  const pkg = PACKAGE_OF[cmd];
  return new WireError('WIRE_MISSING_TOOL', `${cmd} not found: apt-get install --no-install-recommends ${pkg ?? cmd}`);
}

/**
 * run runs a tool (wg, ip, openssl ...) and returns its stdout. Secrets go in `input` (stdin), never in
 * `args`, because a failure's message names the command and its arguments, its exit code and stderr.
 */
export async function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<string> {
  try {
    const r = await execa(cmd, args, { input: opts.input ?? '', stripFinalNewline: true, env: { LC_ALL: 'C' } });
    return r.stdout;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; stderr?: string; shortMessage?: string };
    if (e.code === 'ENOENT') throw missingTool(cmd);
    const why = (e.stderr ?? '').trim() || e.shortMessage || String(err);
    throw new WireError('WIRE_COMMAND_FAILED', `${cmd} ${args.join(' ')} failed (exit ${e.exitCode ?? '?'}): ${why}`, { cause: err });
  }
}
