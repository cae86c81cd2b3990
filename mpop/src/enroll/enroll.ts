import { checkNodeName } from '@meshpop/wire';
import { Pool } from '@meshpop/vssh';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorInfo, MpopError } from '../errors.js';
import { readInventoryFile, setGroup } from '../inventory/file.js';
import { mpopPaths } from '../paths.js';
import { findBins, installPackages, InstallReport, outdated } from './install.js';
import { knownHostsPath } from './known-hosts.js';
import { joinWire, NodeLayout, nodeSide, prepareVault, ServicesReport, startServices } from './node-setup.js';
import { controllerVersions, MeshpopBin } from './packages.js';
import { RemoteHost } from './remote.js';
import { printable } from './shell.js';
import { SshAuth, sshConnect } from './ssh.js';
import { checkNodeRuntime, checkRoot, checkSystem, HostSystem } from './system.js';
import { checkCoordinator, createJoinToken, registeredNode, revokeJoinToken } from './token.js';
import { parseTarget } from './target.js';

/** ENROLL_STEPS are enroll's steps, in order; each is a line of the progress display. */
export const ENROLL_STEPS = ['connect', 'system', 'root', 'node', 'packages', 'token', 'join', 'services', 'mesh', 'record'] as const;

/** EnrollStep is one of ENROLL_STEPS. */
export type EnrollStep = (typeof ENROLL_STEPS)[number];

/** StepReport is how one step went: ok (with what it found or did), skipped, or failed (with the error). */
export interface StepReport {
  step: EnrollStep;
  status: 'ok' | 'skipped' | 'failed';
  detail: string;
  durationMs: number;
  error?: { code: string; message: string };
}

/** EnrollEvent is a step starting, or ending with its report (for a progress display). */
export type EnrollEvent = { type: 'start'; step: EnrollStep; index: number; total: number } | { type: 'detail'; step: EnrollStep; text: string } | ({ type: 'end'; index: number; total: number } & StepReport);

/** EnrollOptions: the node's name, where to SSH to, how to log in, and what to do there. */
export interface EnrollOptions {
  /** the controller's MESHPOP_HOME: the Wire coordinator's */
  home: string;
  name: string;
  /** `user@host` (user defaults to root) */
  target: string;
  port?: number;
  auth: SshAuth;
  acceptHostKey?: string;
  installNode?: boolean;
  skipInstall?: boolean;
  group?: string;
  /** the node's MESHPOP_HOME (default /var/lib/meshpop) */
  remoteHome?: string;
  /** where packages go: PREFIX/lib/meshpop, bins in PREFIX/bin (default /usr/local) */
  prefix?: string;
  /** the node's WireGuard interface (default wire0) */
  iface?: string;
  /** how long to wait for the node's vssh hello over the mesh (default 60 s) */
  waitMs?: number;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (e: EnrollEvent) => void;
}

/** EnrollResult is an enrolled node. */
export interface EnrollResult {
  node: string;
  id: string;
  meshIp: string;
  host: string;
  port: number;
  user: string;
  hostKey: { type: string; fingerprint: string; status: 'known' | 'added' };
  system: { kernel: string; machine: string; os: string; systemd: boolean };
  privilege: 'root' | 'sudo';
  nodeVersion: string;
  packages: InstallReport;
  services: ServicesReport;
  group?: string;
  steps: StepReport[];
  durationMs: number;
}

/** EnrollError is the error of a failed enroll: the failing step's, with every step's report so far. */
export class EnrollError extends MpopError {
  constructor(readonly step: EnrollStep, readonly steps: StepReport[], cause: MpopError) {
    super(cause.code, `${step}: ${cause.message}`, { cause });
  }
}

/**
 * enroll takes a machine that has only SSH into the fleet: connect (host key checked against
 * $MESHPOP_HOME/mpop/known_hosts), check Linux on x86_64/arm64, root or passwordless sudo, Node >= 20.19
 * (installed with --install-node), the MeshPOP packages at this controller's version (packed, uploaded
 * over SFTP, installed), a join token from this coordinator's registry, `wire up --join` on the host, the
 * wire and vssh services, and a wait until the node answers vssh over its mesh address; then the node
 * is recorded (in the Wire registry, and in `group` when asked). A failure stops at its step with
 * an EnrollError naming it; an unused token is revoked.
 */
export async function enroll(opts: EnrollOptions): Promise<EnrollResult> {
  const started = performance.now();
  const { user, host: address } = parseTarget(opts.target);
  const port = opts.port ?? 22;
  try {
    checkNodeName(opts.name);
  } catch (err) {
    throw new MpopError('MPOP_USAGE', (err as Error).message);
  }
  for (const [flag, path] of [['--remote-home', opts.remoteHome], ['--prefix', opts.prefix]] as const) {
    if (path !== undefined && (!path.startsWith('/') || /[\n\0]/.test(path))) throw new MpopError('MPOP_USAGE', `${flag} must be an absolute path on the host, not "${path.slice(0, 60)}".`);
  }
  if (opts.group !== undefined) {
    // Checked now, as setGroup would check it, so a bad name does not fail the last step of a done enroll.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(opts.group) || ['all', 'failed', 'changed', 'ok', 'unreachable'].includes(opts.group)) {
      throw new MpopError('MPOP_USAGE', `"${opts.group.slice(0, 60)}" cannot be a group name: letters, digits, ".", "_" or "-", starting with a letter or digit, and not all, failed, changed, ok or unreachable.`);
    }
    readInventoryFile(mpopPaths(opts.home).inventory);
  }
  checkCoordinator(opts.home, opts.name);
  const layout: NodeLayout = { home: opts.remoteHome ?? '/var/lib/meshpop', node: 'node', bins: { sv: 'sv', wire: 'wire', vssh: 'vssh' }, iface: opts.iface ?? 'wire0' };
  const prefix = opts.prefix ?? '/usr/local';
  const steps: StepReport[] = [];
  const emit = opts.onEvent ?? ((): void => {});
  const step = async <T>(name: EnrollStep, run: () => Promise<{ value: T; detail: string; skipped?: boolean }>): Promise<T> => {
    const index = ENROLL_STEPS.indexOf(name);
    const t0 = performance.now();
    emit({ type: 'start', step: name, index, total: ENROLL_STEPS.length });
    try {
      const { value, detail, skipped } = await run();
      const r: StepReport = { step: name, status: skipped ? 'skipped' : 'ok', detail, durationMs: Math.round(performance.now() - t0) };
      steps.push(r);
      emit({ type: 'end', index, total: ENROLL_STEPS.length, ...r });
      return value;
    } catch (err) {
      const e = err instanceof MpopError ? err : new MpopError('MPOP_ENROLL', errorInfo(err).message, { cause: err });
      const r: StepReport = { step: name, status: 'failed', detail: e.message, durationMs: Math.round(performance.now() - t0), error: { code: e.code, message: e.message } };
      steps.push(r);
      emit({ type: 'end', index, total: ENROLL_STEPS.length, ...r });
      throw new EnrollError(name, steps, e);
    }
  };
  let tokenId: string | undefined;
  let joined = false;
  const session = await step('connect', async () => {
    const s = await sshConnect({ host: address, port, user, knownHosts: knownHostsPath(opts.home), ...(opts.acceptHostKey ? { acceptHostKey: opts.acceptHostKey } : {}), ...(opts.connectTimeoutMs ? { timeoutMs: opts.connectTimeoutMs } : {}) }, opts.auth, opts.signal);
    return { value: s, detail: `${user}@${address}:${port}, ${s.hostKey.type} ${s.hostKey.fingerprint} (${s.hostKey.status === 'added' ? 'accepted, added to known_hosts' : 'known'})${s.banner ? `, ${s.banner}` : ''}` };
  });
  const host = new RemoteHost(session, address);
  try {
    const sys: HostSystem = await step('system', async () => {
      const s = await checkSystem(host);
      return { value: s, detail: `${s.kernel} ${s.machine}, ${s.os.prettyName}, ${s.systemd ? 'systemd' : 'no systemd'}` };
    });
    const privilege = await step('root', async () => {
      const p = await checkRoot(host, user);
      return { value: p, detail: p === 'root' ? 'logged in as root' : `${user} has passwordless sudo` };
    });
    const node = await step('node', async () => {
      const n = await checkNodeRuntime(host, sys, opts.installNode === true, opts.signal);
      layout.node = n.path;
      return { value: n, detail: `Node ${n.version} at ${n.path}${n.installed ? ' (installed now)' : ''}` };
    });
    const packages = await step('packages', async () => {
      const want = controllerVersions();
      const before = await findBins(host, prefix);
      const stale = outdated(before, want);
      const say = (bins: typeof before): string => bins.map((b) => `${b.bin} ${b.version ?? 'absent'}`).join(', ');
      let report: InstallReport;
      if (!stale.length || opts.skipInstall) {
        if (before.some((b) => !b.path)) {
          throw new MpopError('MPOP_ENROLL', `--skip-install, but ${before.filter((b) => !b.path).map((b) => b.bin).join(', ')} ${before.filter((b) => !b.path).length > 1 ? 'are' : 'is'} not on ${address} (looked in ${prefix}/bin and on PATH): install the MeshPOP packages there, or enroll without --skip-install.`);
        }
        report = { action: stale.length ? 'skipped' : 'present', bins: binsOf(before), versions: Object.fromEntries(before.map((b) => [b.pkg, b.version!])) };
        Object.assign(layout.bins, report.bins);
        return { value: report, detail: `${say(before)}${stale.length ? ` (not ${Object.values(want)[0]} as here; --skip-install)` : ''}` };
      }
      const { dir } = await installPackages(host, prefix, { ...(opts.signal ? { signal: opts.signal } : {}), onDetail: (text) => emit({ type: 'detail', step: 'packages', text }) });
      const after = await findBins(host, prefix);
      const still = outdated(after, want);
      if (still.length) throw new MpopError('MPOP_ENROLL', `after installing, ${say(still)} on ${address} (wanted ${Object.entries(want).map(([p, v]) => `${p} ${v}`).join(', ')}): another copy comes first on its PATH?`);
      report = { action: 'installed', bins: binsOf(after), versions: want, dir };
      Object.assign(layout.bins, report.bins);
      return { value: report, detail: `installed ${say(after)} in ${dir}` };
    });
    const token = await step('token', async () => {
      const t = createJoinToken(opts.home, opts.name, 15 * 60_000);
      tokenId = t.id;
      return { value: t, detail: `single-use, for ${opts.name}, until ${t.expiresAt}` };
    });
    const meshIp = await step('join', async () => {
      const vault = await prepareVault(host, layout);
      const said = await joinWire(host, layout, token.token, { ...(opts.signal ? { signal: opts.signal } : {}) });
      joined = true;
      // The registry, not the host, says which address the node has.
      const ip = registeredNode(opts.home, opts.name)?.meshIp;
      if (!ip) throw new MpopError('MPOP_ENROLL', `${address} says it joined (${printable(said).slice(0, 40)}), but ${opts.name} is not in this coordinator's registry: is its wire up pointed at another coordinator?`);
      return { value: ip, detail: `joined as ${opts.name} (${ip}); vault ${vault === 'created' ? 'made' : 'kept'} at ${layout.home}/vault, opened with ${layout.home}/vault.key` };
    });
    const services = await step('services', async () => {
      const s = await startServices(host, layout, sys.systemd);
      return { value: s, detail: s.manager === 'systemd' ? `systemd: ${s.units!.join(', ')} enabled and started` : `no systemd: wire up and vssh serve started detached (logs in ${layout.home}/logs)` };
    });
    const id = await step('mesh', async () => {
      try {
        const r = await waitForHello(opts.home, opts.name, meshIp, opts.waitMs ?? 60_000, opts.signal);
        return { value: r.id, detail: `${opts.name} answers vssh on ${r.address} (${r.rttMs} ms)` };
      } catch (err) {
        // Which side is broken: the node's own view of its mesh and the end of its daemons' logs.
        if (err instanceof MpopError && err.code === 'MPOP_TIMEOUT') throw new MpopError('MPOP_TIMEOUT', `${err.message}${/[.?!]$/.test(err.message) ? '' : '.'} On the node, ${await nodeSide(host, layout, services)}`);
        throw err;
      }
    });
    await step('record', async () => {
      const rec = registeredNode(opts.home, opts.name);
      if (!rec) throw new MpopError('MPOP_ENROLL', `${opts.name} is not in the Wire registry any more (removed meanwhile?)`);
      if (opts.group) {
        const file = mpopPaths(opts.home).inventory;
        const members = readInventoryFile(file).groups[opts.group] ?? [];
        if (!members.includes(opts.name)) setGroup(file, opts.group, [...members, opts.name]);
      }
      return { value: rec, detail: `in the Wire registry as ${rec.id}${opts.group ? `, in group @${opts.group}` : ''}` };
    });
    return {
      node: opts.name,
      id,
      meshIp,
      host: address,
      port,
      user,
      hostKey: session.hostKey,
      system: { kernel: sys.kernel, machine: sys.machine, os: sys.os.prettyName, systemd: sys.systemd },
      privilege,
      nodeVersion: node.version,
      packages,
      services,
      ...(opts.group ? { group: opts.group } : {}),
      steps,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    // A token not spent yet is revoked (a spent one cannot be, and is left as the registry has it).
    if (tokenId && !joined) revokeJoinToken(opts.home, tokenId);
    throw err;
  } finally {
    session.close();
  }
}

/** binsOf maps found bins to their paths. */
function binsOf(bins: { bin: MeshpopBin; path?: string }[]): Record<MeshpopBin, string> {
  return Object.fromEntries(bins.map((b) => [b.bin, b.path!])) as Record<MeshpopBin, string>;
}

/** waitForHello waits until the node answers a signed vssh hello (and ping) on its mesh address, up to `timeoutMs`. */
async function waitForHello(home: string, name: string, meshIp: string, timeoutMs: number, signal?: AbortSignal): Promise<{ id: string; address: string; rttMs: number }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const pool = new Pool({ home, retries: 0, connectTimeoutMs: 3000 });
    try {
      const client = await pool.client(name);
      const rttMs = Math.round(await client.ping());
      const a = client.address;
      if (a && a.host === meshIp) return { id: client.target.id, address: `${a.host}:${a.port}`, rttMs };
      last = `it answered on ${a ? `${a.host}:${a.port}` : 'an unknown address'}, not its mesh address ${meshIp}`;
    } catch (err) {
      last = errorInfo(err).message;
    } finally {
      await pool.close();
    }
    if (signal?.aborted) throw new MpopError('MPOP_CANCELLED', 'cancelled');
    if (Date.now() > deadline) throw new MpopError('MPOP_TIMEOUT', `${name} did not answer vssh over the mesh (${meshIp}) within ${Math.round(timeoutMs / 1000)} s: ${last}`);
    await sleep(1000);
  }
}
