import type { Pool, SysInfo, VsshClient } from '@meshpop/vssh/client';
import type { ErrorInfo } from '../errors.js';
import { fanout } from '../fanout/run.js';
import type { Inventory } from '../inventory/inventory.js';
import { EXTRAS_ARGV, parseNetDev } from '../monitor/sample.js';
import type { Alert } from '../monitor/alerts.js';
import { levelOf, THRESHOLDS, type Level } from '../facts/status.js';

/** DEFAULT_INTERVAL_MS is how often the dashboard reads the fleet unless told otherwise. */
export const DEFAULT_INTERVAL_MS = 5_000;

/** Reading is what one poll of a node returned: its sysinfo in short, one round trip, its network counters and daemon version. */
export interface Reading {
  /** ms since the epoch (the controller's clock) when it was read */
  at: number;
  hostname: string;
  kernel: string;
  platform: string;
  arch: string;
  uptimeS: number;
  cores: number;
  cpuModel: string | null;
  cpuPercent: number | null;
  load: [number, number, number];
  memory: { usedBytes: number; totalBytes: number; availableBytes: number; percent: number };
  disks: { mount: string; usePercent: number; usedBytes: number; totalBytes: number }[];
  /** bytes received / sent on every interface but lo since boot, and per second since the reading before; null where unknown */
  net: { rxBytes: number; txBytes: number; rxPerS: number | null; txPerS: number | null } | null;
  gpus: number;
  failedUnits: string[] | null;
  rttMs: number;
  /** the vssh daemon's version (from its hello) */
  vsshVersion: string;
  levels: { cpu: Level; memory: Level; disk: Level; load: Level };
}

/** NodeRow is one node of the fleet view: who it is, whether its last poll answered, and its last good reading. */
export interface NodeRow {
  name: string;
  groups: string[];
  roles: string[];
  address: string;
  /** the last poll answered */
  online: boolean;
  /** the last good reading is older than the view's staleAfterMs (or there is none) */
  stale: boolean;
  /** ISO time of the last good reading, null when never read */
  lastSeen: string | null;
  reading: Reading | null;
  /** why the last poll failed */
  error?: ErrorInfo;
}

/** FleetView is the whole fleet as the dashboard, /metrics and an MCP tool show it. Nothing in it is a secret. */
export interface FleetView {
  generatedAt: string;
  intervalMs: number;
  staleAfterMs: number;
  nodes: NodeRow[];
  groups: string[];
  counts: { total: number; online: number; stale: number; offline: number };
  /** the monitor's firing alerts (empty when there is no monitor.db) */
  alerts: Alert[];
  /** the last heal fixes from the audit log, newest first */
  heal: HealRecord[];
  notes: string[];
}

/** HealRecord is one heal fix as the audit log keeps it. */
export interface HealRecord {
  time: string;
  node: string;
  check: string;
  action: string;
  result: string;
  before: string;
  after: string | null;
}

/** readReading polls one node: sysinfo, a ping and the daemon's hello at once, the network counters alongside (their failure leaves net null). */
export async function readReading(client: VsshClient, signal: AbortSignal, previous?: Reading | null): Promise<Reading> {
  const extras = client.exec({ argv: EXTRAS_ARGV }, { timeoutMs: 10_000, maxOutputBytes: 1 << 20, signal }).then((r) => r.stdout.toString('utf8'), () => undefined);
  const [info, rtt, hello] = await Promise.all([client.sysinfo(), client.ping(), client.hello()]);
  const netPart = (await extras)?.split('--- net\n')[1];
  return readingOf(info, rtt, hello.version, netPart === undefined ? null : parseNetDev(netPart), Date.now(), previous ?? null);
}

/** readingOf turns one sysinfo (and its extras) into a Reading; `previous` gives the network rates. */
export function readingOf(info: SysInfo, rttMs: number, vsshVersion: string, net: { rx: number; tx: number } | null, at: number, previous: Reading | null): Reading {
  const m = info.memory;
  const percent = m.totalBytes > 0 ? Math.round((1000 * m.usedBytes) / m.totalBytes) / 10 : 0;
  const disks = info.disks.map((d) => ({ mount: d.mount, usePercent: d.usePercent, usedBytes: d.usedBytes, totalBytes: d.totalBytes }));
  const worst = fullestDisk(disks)?.usePercent ?? null;
  const dt = previous ? (at - previous.at) / 1000 : 0;
  const rate = (now: number, before: number | undefined): number | null => (before !== undefined && dt > 0 && now >= before ? Math.round((now - before) / dt) : null);
  return {
    at,
    hostname: info.hostname,
    kernel: info.kernel,
    platform: info.platform,
    arch: info.arch,
    uptimeS: Math.round(info.uptimeS),
    cores: info.cpu.count,
    cpuModel: info.cpu.model,
    cpuPercent: info.cpu.usagePercent,
    load: info.load.map((l) => Math.round(l * 100) / 100) as [number, number, number],
    memory: { usedBytes: m.usedBytes, totalBytes: m.totalBytes, availableBytes: m.availableBytes, percent },
    disks,
    net: net ? { rxBytes: net.rx, txBytes: net.tx, rxPerS: rate(net.rx, previous?.net?.rxBytes), txPerS: rate(net.tx, previous?.net?.txBytes) } : null,
    gpus: info.gpus.length,
    failedUnits: info.failedUnits,
    rttMs: Math.round(rttMs * 10) / 10,
    vsshVersion,
    levels: {
      cpu: levelOf(info.cpu.usagePercent, THRESHOLDS.cpuPercent),
      memory: levelOf(percent, THRESHOLDS.memPercent),
      disk: levelOf(worst, THRESHOLDS.diskPercent),
      load: levelOf(info.load[0] / Math.max(1, info.cpu.count), THRESHOLDS.loadPerCore),
    },
  };
}

/** fullestDisk is the disk with the highest use (null when there is none). */
export function fullestDisk<D extends { usePercent: number }>(disks: D[]): D | null {
  return disks.reduce<D | null>((w, d) => (!w || d.usePercent > w.usePercent ? d : w), null);
}

/** stateOf is a node row's state: offline (its last poll failed), stale (its reading is old) or online. */
export const stateOf = (n: NodeRow): 'online' | 'stale' | 'offline' => (!n.online ? 'offline' : n.stale ? 'stale' : 'online');

/** PollResult is one node's answer to a poll. */
export interface PollResult {
  node: string;
  reading?: Reading;
  error?: ErrorInfo;
}

/** pollFleet reads every node once (a fan-out over the pool, each node bounded by timeoutMs). */
export async function pollFleet(pool: Pool, nodes: string[], opts: { timeoutMs: number; previous?: Map<string, Reading>; signal?: AbortSignal; concurrency?: number }): Promise<PollResult[]> {
  const run = await fanout(pool, nodes, ({ node, client, signal }) => readReading(client, signal, opts.previous?.get(node)), {
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
  });
  return run.results.map((r) => (r.outcome === 'ok' && r.value ? { node: r.node, reading: r.value } : { node: r.node, ...(r.error ? { error: r.error } : { error: { code: r.outcome.toUpperCase(), message: r.outcome } }) }));
}

/** FleetState is what a view is built from: the inventory and every node's last good reading and last error. */
export interface FleetState {
  inventory: Inventory;
  readings: Map<string, Reading>;
  errors: Map<string, ErrorInfo>;
  /** only these nodes (a target), else every node of the inventory */
  only?: Set<string>;
}

/** buildView assembles a FleetView from the state at `now`; a reading older than staleAfterMs is stale. */
export function buildView(state: FleetState, extra: { intervalMs: number; staleAfterMs: number; alerts: Alert[]; heal: HealRecord[]; notes?: string[]; now?: number }): FleetView {
  const now = extra.now ?? Date.now();
  const nodes: NodeRow[] = state.inventory.nodes.filter((n) => !state.only || state.only.has(n.name)).map((n) => {
    const reading = state.readings.get(n.name) ?? null;
    const error = state.errors.get(n.name);
    const first = n.addresses[0];
    return {
      name: n.name,
      groups: n.groups,
      roles: n.roles,
      address: first ? `${first.host.includes(':') ? `[${first.host}]` : first.host}:${first.port}` : '',
      online: reading !== null && !error,
      stale: reading === null || now - reading.at > extra.staleAfterMs,
      lastSeen: reading ? new Date(reading.at).toISOString() : null,
      reading,
      ...(error ? { error } : {}),
    };
  });
  return {
    generatedAt: new Date(now).toISOString(),
    intervalMs: extra.intervalMs,
    staleAfterMs: extra.staleAfterMs,
    nodes,
    groups: state.inventory.groups.map((g) => g.name),
    counts: { total: nodes.length, online: nodes.filter((n) => n.online).length, stale: nodes.filter((n) => n.stale).length, offline: nodes.filter((n) => !n.online).length },
    alerts: extra.alerts,
    heal: extra.heal,
    notes: extra.notes ?? [],
  };
}
