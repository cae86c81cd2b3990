import { MpopError } from '../errors.js';
import { atLeast, isDebianLike, NODE_MIN, OsRelease, parseOsRelease, parseUname, parseVersion, Platform } from './probe.js';
import { Privilege, RemoteHost, tail } from './remote.js';
import { printable } from './shell.js';

/** HostSystem is what enroll learned of a host: kernel and architecture, distribution, whether it runs systemd. */
export interface HostSystem extends Platform {
  os: OsRelease;
  systemd: boolean;
}

/** checkSystem asks `uname -sm` and /etc/os-release, and refuses what is not Linux on x86_64 or arm64. */
export async function checkSystem(host: RemoteHost): Promise<HostSystem> {
  const r = await host.sh('uname -sm; echo ---; cat /etc/os-release 2>/dev/null; echo ---; [ -d /run/systemd/system ] && echo systemd || echo none');
  const [uname = '', osText = '', init = ''] = r.stdout.split('---\n');
  const p = parseUname(uname);
  if ('unsupported' in p) throw new MpopError('MPOP_ENROLL', `${host.label} cannot be enrolled: ${p.unsupported}.`);
  return { ...p, os: parseOsRelease(osText), systemd: init.trim() === 'systemd' };
}

/** checkRoot finds how root is had: uid 0, or passwordless `sudo -n`; anything else is a clear refusal. */
export async function checkRoot(host: RemoteHost, user: string): Promise<Privilege> {
  const id = await host.run(['id', '-u']);
  if (id.stdout.trim() === '0') return (host.privilege = 'root');
  const sudo = await host.run(['sudo', '-n', 'true']);
  if (sudo.code === 0) return (host.privilege = 'sudo');
  const why = /not found/.test(sudo.stderr) ? 'sudo is not installed' : /password/i.test(sudo.stderr) ? 'sudo asks for a password' : tail(sudo.stderr) || `sudo -n true exited ${sudo.code}`;
  throw new MpopError(
    'MPOP_ENROLL',
    `${user} on ${host.label} is not root and has no passwordless sudo (${why}): enrolling installs packages and services. ` +
      `Log in as root, or give ${user} passwordless sudo (a line "${user} ALL=(ALL) NOPASSWD:ALL" in /etc/sudoers.d/).`,
  );
}

/** NodeRuntime is the host's Node: its path and version. */
export interface NodeRuntime {
  path: string;
  version: string;
  installed: boolean;
}

/** findNode looks for `node` on the host and reads its version. */
async function findNode(host: RemoteHost): Promise<{ path: string; version: string } | undefined> {
  const r = await host.sh('p=$(command -v node) && echo "$p" && "$p" --version');
  const [path, version] = r.stdout.trim().split('\n');
  return r.code === 0 && path && version ? { path: printable(path), version: printable(version.trim()).slice(0, 40) } : undefined;
}

/**
 * checkNodeRuntime requires Node >= 20.19 on the host; with `install`, installs it first from the
 * distribution's packages when they are new enough, else from NodeSource's apt repository (Debian and
 * Ubuntu), saying what it needs when it cannot.
 */
export async function checkNodeRuntime(host: RemoteHost, sys: HostSystem, install: boolean, signal?: AbortSignal): Promise<NodeRuntime> {
  const found = await findNode(host);
  const v = found && parseVersion(found.version);
  if (found && v && atLeast(v, NODE_MIN)) return { ...found, installed: false };
  const have = found ? `Node ${found.version} at ${found.path}` : 'no Node';
  if (!install) {
    throw new MpopError('MPOP_ENROLL', `${host.label} has ${have}; MeshPOP needs Node >= 20.19. Install it there, or pass --install-node (apt: the distribution's nodejs when new enough, else NodeSource's repository at deb.nodesource.com, which the host must reach).`);
  }
  if (!isDebianLike(sys.os)) {
    throw new MpopError('MPOP_ENROLL', `--install-node knows apt only (Debian, Ubuntu); ${host.label} runs ${sys.os.prettyName}: install Node >= 20.19 there yourself (e.g. NodeSource's rpm repository), then enroll again.`);
  }
  await installNodeApt(host, signal);
  const now = await findNode(host);
  const nv = now && parseVersion(now.version);
  if (!now || !nv || !atLeast(nv, NODE_MIN)) throw new MpopError('MPOP_ENROLL', `Node was installed on ${host.label} but ${now ? now.version : 'no node'} is on its PATH; it needs >= 20.19.`);
  return { ...now, installed: true };
}

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

/** installNodeApt installs nodejs (and npm) with apt: the distribution's when >= 20.19, else NodeSource's node_22.x. */
async function installNodeApt(host: RemoteHost, signal?: AbortSignal): Promise<void> {
  const opts = { root: true, env: APT_ENV, timeoutMs: 600_000, ...(signal ? { signal } : {}) };
  await host.mustSh('apt-get update', 'apt-get update -q >/dev/null', [], opts);
  const policy = await host.run(['apt-cache', 'policy', 'nodejs'], opts);
  const cand = /Candidate:\s*(\S+)/.exec(policy.stdout)?.[1];
  const cv = cand && cand !== '(none)' ? parseVersion(cand.replace(/^\d+:/, '')) : undefined;
  if (cv && atLeast(cv, NODE_MIN)) {
    await host.mustSh('installing nodejs and npm (apt)', 'apt-get install -y -q --no-install-recommends nodejs npm >/dev/null', [], opts);
    return;
  }
  const reach = await host.sh('curl -fsS -m 15 -o /dev/null https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key 2>&1 || wget -q -T 15 -O /dev/null https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key 2>&1', [], { timeoutMs: 40_000 });
  if (reach.code !== 0) {
    throw new MpopError('MPOP_ENROLL', `the distribution's nodejs on ${host.label} is ${cand ?? 'absent'} (< 20.19), and NodeSource's apt repository (https://deb.nodesource.com) cannot be reached from it (${tail(reach.stdout + reach.stderr) || 'no curl or wget'}): install Node >= 20.19 there yourself.`);
  }
  await host.mustSh(
    'adding NodeSource\'s apt repository and installing nodejs',
    'set -e; apt-get install -y -q --no-install-recommends ca-certificates curl gnupg >/dev/null; install -d -m 0755 /etc/apt/keyrings; ' +
      'curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg; ' +
      'echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_22.x nodistro main" > /etc/apt/sources.list.d/nodesource.list; ' +
      'apt-get update -q >/dev/null; apt-get install -y -q nodejs >/dev/null',
    [],
    opts,
  );
}
