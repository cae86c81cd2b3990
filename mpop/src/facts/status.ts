import type { Pool, SysInfo } from '@meshpop/vssh/client';
import { fanout, type FanoutResult } from '../fanout/run.js';
import type { FactsOptions } from './fleet.js';

/** Level is how a reading stands against its thresholds. */
export type Level = 'ok' | 'warn' | 'crit';

/** THRESHOLDS are the warn and crit marks of status (percent; load is per core). */
export const THRESHOLDS = {
  cpuPercent: { warn: 80, crit: 95 },
  memPercent: { warn: 85, crit: 95 },
  diskPercent: { warn: 85, crit: 95 },
  loadPerCore: { warn: 1.5, crit: 3 },
} as const;

/** levelOf judges a value against a {warn, crit} pair (null is ok: nothing to judge). */
export function levelOf(value: number | null, t: { warn: number; crit: number }): Level {
  if (value === null) return 'ok';
  return value >= t.crit ? 'crit' : value >= t.warn ? 'warn' : 'ok';
}

/** StatusRow is one node's overview, from one sysinfo and one round trip. */
export interface StatusRow {
  hostname: string;
  load: [number, number, number];
  cores: number;
  cpuPercent: number | null;
  memory: { usedBytes: number; totalBytes: number; percent: number };
  /** the fullest data filesystem (null when none could be read) */
  worstDisk: { mount: string; usePercent: number; availableBytes: number } | null;
  uptimeS: number;
  /** failed systemd units; null when systemd is not running there */
  failedUnits: string[] | null;
  /** one vssh round trip on the open connection, in ms */
  rttMs: number;
  levels: { cpu: Level; memory: Level; disk: Level; load: Level };
  notes: string[];
}

/** statusRow reads a sysinfo into a StatusRow. */
export function statusRow(info: SysInfo, rttMs: number): StatusRow {
  const memPercent = info.memory.totalBytes > 0 ? Math.round((1000 * info.memory.usedBytes) / info.memory.totalBytes) / 10 : 0;
  const worst = [...info.disks].sort((a, b) => b.usePercent - a.usePercent)[0];
  const cores = Math.max(1, info.cpu.count);
  return {
    hostname: info.hostname,
    load: info.load.map((l) => Math.round(l * 100) / 100) as [number, number, number],
    cores: info.cpu.count,
    cpuPercent: info.cpu.usagePercent,
    memory: { usedBytes: info.memory.usedBytes, totalBytes: info.memory.totalBytes, percent: memPercent },
    worstDisk: worst ? { mount: worst.mount, usePercent: worst.usePercent, availableBytes: worst.availableBytes } : null,
    uptimeS: Math.round(info.uptimeS),
    failedUnits: info.failedUnits,
    rttMs: Math.round(rttMs * 10) / 10,
    levels: {
      cpu: levelOf(info.cpu.usagePercent, THRESHOLDS.cpuPercent),
      memory: levelOf(memPercent, THRESHOLDS.memPercent),
      disk: levelOf(worst?.usePercent ?? null, THRESHOLDS.diskPercent),
      load: levelOf(info.load[0] / cores, THRESHOLDS.loadPerCore),
    },
    notes: info.notes,
  };
}

/**
 * fleetStatus takes one sysinfo and one round trip from every node at once. A node that cannot be
 * reached is `unreachable` with the reason (refused, no answer, bad key), never left out.
 */
export function fleetStatus(pool: Pool, nodes: string[], opts: FactsOptions = {}): Promise<FanoutResult<StatusRow>> {
  return fanout(pool, nodes, async ({ client }) => {
    const [info, rtt] = await Promise.all([client.sysinfo(), client.ping()]);
    return statusRow(info, rtt);
  }, opts);
}
