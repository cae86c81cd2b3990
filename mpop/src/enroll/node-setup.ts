import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeServiceUnit } from '@meshpop/wire';
import { MpopError } from '../errors.js';
import type { MeshpopBin } from './packages.js';
import { RemoteHost, tail } from './remote.js';

/** NodeLayout is where the node keeps its state and how its bins are run (node, then the bin's script). */
export interface NodeLayout {
  /** the node's MESHPOP_HOME (default /var/lib/meshpop, as the services' units use) */
  home: string;
  node: string;
  bins: Record<MeshpopBin, string>;
  /** the WireGuard interface name (default wire0) */
  iface: string;
}

const keyFile = (l: NodeLayout): string => `${l.home}/vault.key`;
const env = (l: NodeLayout): Record<string, string> => ({ MESHPOP_HOME: l.home, SV_KEY_FILE: keyFile(l) });

/**
 * prepareVault makes the node's vault when it has none: a random password (used once, then deleted) and a
 * key file (`HOME/vault.key`, 0600) that the services unlock it with. An existing vault needs that key file.
 */
export async function prepareVault(host: RemoteHost, l: NodeLayout): Promise<'created' | 'existing'> {
  const r = await host.sh(
    'umask 077; install -d -m 0700 "$1" || exit 1; ' +
      'if [ -f "$1/vault/store.sv" ]; then [ -f "$1/vault.key" ] && echo existing && exit 0; echo "a vault is at $1/vault without $1/vault.key" >&2; exit 3; fi; ' +
      'pw="$1/.enroll-password"; head -c 32 /dev/urandom | base64 > "$pw" && ' +
      'MESHPOP_HOME="$1" SV_PASSWORD_FILE="$pw" "$2" "$3" init --shares 0 --key-file "$1/vault.key" >/dev/null; rc=$?; rm -f "$pw"; [ $rc = 0 ] && echo created; exit $rc',
    [l.home, l.node, l.bins.sv],
    { root: true, timeoutMs: 120_000 },
  );
  if (r.code === 3) throw new MpopError('MPOP_ENROLL', `${host.label} already has a vault at ${l.home}/vault, but not the key file ${l.home}/vault.key that its services would open it with: move that vault aside, or pass another --remote-home.`);
  if (r.code !== 0) throw new MpopError('MPOP_ENROLL', `making the vault on ${host.label} failed (exit ${r.code}): ${tail(r.stderr)}`);
  return r.stdout.trim() === 'existing' ? 'existing' : 'created';
}

/** startDetached starts argv as root in a session of its own, its output appended to `log`, with the node's environment; returns its pid. */
async function startDetached(host: RemoteHost, l: NodeLayout, argv: string[], log: string): Promise<number> {
  const out = await host.mustSh(
    `starting ${argv[2] ?? argv[0]}`,
    // setsid execs the program (a background job is no group leader), so $! is the program's own pid.
    'log="$1"; shift; install -d -m 0700 "$(dirname "$log")"; setsid "$@" >>"$log" 2>&1 </dev/null & echo $!',
    [log, 'env', ...Object.entries(env(l)).map(([k, v]) => `${k}=${v}`), ...argv],
    { root: true },
  );
  return Number(out.trim());
}

/** wireStatus asks the node's wire whether it is up and with which mesh address. */
async function wireStatus(host: RemoteHost, l: NodeLayout): Promise<{ up: boolean; meshIp?: string } | undefined> {
  const r = await host.run([l.node, l.bins.wire, 'status', '--json'], { root: true, env: env(l), timeoutMs: 30_000 });
  try {
    return JSON.parse(r.stdout) as { up: boolean; meshIp?: string };
  } catch {
    return undefined;
  }
}

/**
 * joinWire runs `wire up --join TOKEN` on the host, detached, and waits (up to `timeoutMs`) until the node has
 * joined and its interface is up; a `wire up` that exits first is reported with the end of its log.
 */
export async function joinWire(host: RemoteHost, l: NodeLayout, token: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  // A `wire up` left running by an earlier enroll of this host (one that stopped half-way) would hold the
  // interface and up.pid: it is stopped first (`wire down` says "not running" when there is none).
  await wireDown(host, l);
  return startWireUp(host, l, ['--join', token], opts);
}

/** wireDown stops the node's `wire up` (through its up.pid; "not running" when there is none). */
async function wireDown(host: RemoteHost, l: NodeLayout): Promise<void> {
  await host.run([l.node, l.bins.wire, 'down'], { root: true, env: env(l), timeoutMs: 30_000 });
}

/** startWireUp starts `wire up [extra]` detached and waits until its interface is up; returns the mesh address. */
async function startWireUp(host: RemoteHost, l: NodeLayout, extra: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const log = `${l.home}/logs/wire-up.log`;
  const what = extra[0] === '--join' ? 'wire up --join' : 'wire up';
  const mark = Number((await host.sh('wc -c < "$1" 2>/dev/null || echo 0', [log], { root: true })).stdout.trim()) || 0;
  const pid = await startDetached(host, l, [l.node, l.bins.wire, 'up', ...extra, '--interface', l.iface], log);
  const logTail = async (): Promise<string> => (await host.sh('tail -c +$(($2 + 1)) "$1" 2>/dev/null | tail -n 5', [log, String(mark)], { root: true })).stdout;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (;;) {
    if (opts.signal?.aborted) throw new MpopError('MPOP_CANCELLED', 'cancelled');
    const alive = (await host.run(['kill', '-0', String(pid)], { root: true })).code === 0;
    const s = await wireStatus(host, l);
    if (alive && s?.up && s.meshIp) return s.meshIp;
    if (!alive) throw new MpopError('MPOP_ENROLL', `${what} exited on ${host.label}: ${readable(await logTail()) || 'it wrote nothing'} (log: ${log})`);
    if (Date.now() > deadline) {
      throw new MpopError('MPOP_TIMEOUT', `the node on ${host.label} did not come up in the mesh within ${Math.round((opts.timeoutMs ?? 90_000) / 1000)} s: ${readable(await logTail()) || `${what} wrote nothing`} (log: ${log}; it still runs as pid ${pid})`);
    }
    await sleep(1000);
  }
}

/** readable turns the end of a pino log into its messages. */
function readable(text: string): string {
  return tail(text.split('\n').map((line) => {
    try {
      const j = JSON.parse(line) as { msg?: string; err?: { message?: string } };
      return [j.msg, j.err?.message].filter(Boolean).join(': ');
    } catch {
      return line;
    }
  }).join('\n'));
}

/** ServicesReport says how the node's daemons run: systemd units (enabled), or detached processes that a reboot ends. */
export interface ServicesReport {
  manager: 'systemd' | 'detached';
  units?: string[];
  logs?: string[];
  note?: string;
}

/** unitTexts renders the node's two systemd units (wire-up and vssh, as `wire/vssh install-service` name them). */
export function unitTexts(l: NodeLayout): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'mpop-units-'));
  try {
    const wire = writeServiceUnit(dir, {
      name: 'wire-up',
      description: 'MeshPOP wire node (WireGuard mesh)',
      after: 'network-online.target',
      environment: env(l),
      execStart: `${l.node} ${l.bins.wire} up --interface ${l.iface}`,
      kill: 'KillSignal=SIGTERM',
      noRestartOn: [2, 11],
    });
    const vssh = writeServiceUnit(dir, {
      name: 'vssh',
      description: 'MeshPOP vssh daemon (authenticated exec and file transfer, TCP 48291)',
      after: 'network-online.target wire-up.service',
      environment: env(l),
      execStart: `${l.node} ${l.bins.vssh} serve`,
      kill: 'KillMode=mixed',
    });
    return { 'wire-up.service': readFileSync(wire, 'utf8'), 'vssh.service': readFileSync(vssh, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * startServices makes the node's daemons last. The detached `wire up --join` that joined is stopped (`wire
 * down`). With systemd, the wire-up and vssh units are installed, enabled and started. Without, `wire up` and
 * `vssh serve` are started detached, and the report says a reboot ends them.
 */
export async function startServices(host: RemoteHost, l: NodeLayout, systemd: boolean): Promise<ServicesReport> {
  if (!systemd) {
    // The `wire up --join TOKEN` that joined is replaced by a plain `wire up`, as the unit would run it, so
    // the long-lived process carries no token in its command line.
    await wireDown(host, l);
    await startWireUp(host, l, []);
    const log = `${l.home}/logs/vssh.log`;
    const pidFile = `${l.home}/logs/vssh.pid`;
    // A vssh serve an earlier enroll started holds the port with the node's old key: it is ended first
    // (only while that pid is still a vssh serve).
    await host.sh('p=$(cat "$1" 2>/dev/null) && tr "\\0" " " < /proc/"$p"/cmdline 2>/dev/null | grep -q " serve" && kill "$p" && sleep 1; exit 0', [pidFile], { root: true });
    const pid = await startDetached(host, l, [l.node, l.bins.vssh, 'serve'], log);
    await host.sh('echo "$2" > "$1"', [pidFile, String(pid)], { root: true });
    return { manager: 'detached', logs: [`${l.home}/logs/wire-up.log`, log], note: `${host.label} runs no systemd: wire up and vssh serve run detached and will not survive a reboot (start them from its init system).` };
  }
  const tmp = (await host.must('making a temporary folder', ['mktemp', '-d', '/tmp/mpop-units.XXXXXX'])).trim();
  const local = mkdtempSync(join(tmpdir(), 'mpop-units-up-'));
  try {
    const units = unitTexts(l);
    for (const [name, text] of Object.entries(units)) {
      const f = join(local, name);
      writeFileSync(f, text);
      await host.session.upload(f, `${tmp}/${name}`);
    }
    await wireDown(host, l);
    await host.mustSh(
      'installing and starting the wire-up and vssh units',
      // restart, not only enable --now: a unit an earlier enroll started would keep the node's old key.
      'set -e; install -m 0644 "$1/wire-up.service" "$1/vssh.service" /etc/systemd/system/; systemctl daemon-reload; systemctl enable wire-up.service vssh.service; systemctl restart wire-up.service vssh.service',
      [tmp],
      { root: true, timeoutMs: 60_000 },
    );
    return { manager: 'systemd', units: Object.keys(units) };
  } finally {
    rmSync(local, { recursive: true, force: true });
    await host.run(['rm', '-rf', tmp]).catch(() => undefined);
  }
}

/**
 * nodeSide says what the node itself reports when it does not answer over the mesh: its `wire status` (peers
 * and their handshakes) and the end of its daemons' logs (detached) or their units' state (systemd), so the
 * error names the side that is broken. It never throws: what cannot be read is said so.
 */
export async function nodeSide(host: RemoteHost, l: NodeLayout, services: ServicesReport): Promise<string> {
  const parts: string[] = [];
  try {
    const s = await host.run([l.node, l.bins.wire, 'status'], { root: true, env: env(l), timeoutMs: 15_000 });
    parts.push(`its wire status: ${tail(s.stdout || s.stderr, 4) || `exit ${s.code}, nothing said`}`);
    if (services.manager === 'systemd') {
      const u = await host.run(['systemctl', 'is-active', 'wire-up', 'vssh'], { root: true, timeoutMs: 15_000 });
      parts.push(`systemctl is-active wire-up vssh: ${tail(u.stdout, 2) || `exit ${u.code}`} (journalctl -u vssh on the node says more)`);
    }
    for (const log of services.logs ?? []) {
      const t = await host.sh('tail -n 3 "$1" 2>/dev/null', [log], { root: true, timeoutMs: 15_000 });
      parts.push(`${log} ends: ${readable(t.stdout) || '(empty)'}`);
    }
  } catch (err) {
    parts.push(`the node could not be asked (${err instanceof Error ? err.message : String(err)})`);
  }
  return parts.join('; ');
}
