import type { DiskInfo, GpuInfo, Pool, SysInfo } from '@meshpop/vssh/client';
import { fanout, type FanoutResult } from '../fanout/run.js';
import type { FactsOptions } from './fleet.js';

/** Hardware is what a node is made of, from its sysinfo. */
export interface Hardware {
  hostname: string;
  platform: string;
  arch: string;
  kernel: string;
  cpu: { model: string | null; count: number };
  memory: { totalBytes: number; swapTotalBytes: number | null };
  disks: Pick<DiskInfo, 'mount' | 'fs' | 'device' | 'totalBytes' | 'usePercent'>[];
  /** NVIDIA GPUs the daemon saw through nvidia-smi (empty: none, or no nvidia-smi; `mpop gpu` says which) */
  gpus: Pick<GpuInfo, 'index' | 'name' | 'memoryTotalBytes'>[];
  notes: string[];
}

/** hardwareOf reads the hardware part of a sysinfo. */
export function hardwareOf(info: SysInfo): Hardware {
  return {
    hostname: info.hostname,
    platform: info.platform,
    arch: info.arch,
    kernel: info.kernel,
    cpu: { model: info.cpu.model, count: info.cpu.count },
    memory: { totalBytes: info.memory.totalBytes, swapTotalBytes: info.memory.swapTotalBytes },
    disks: info.disks.map((d) => ({ mount: d.mount, fs: d.fs, device: d.device, totalBytes: d.totalBytes, usePercent: d.usePercent })),
    gpus: info.gpus.map((g) => ({ index: g.index, name: g.name, memoryTotalBytes: g.memoryTotalBytes })),
    notes: info.notes,
  };
}

/** fleetHardware takes one sysinfo from every node and keeps its hardware. */
export function fleetHardware(pool: Pool, nodes: string[], opts: FactsOptions = {}): Promise<FanoutResult<Hardware>> {
  return fanout(pool, nodes, async ({ client }) => hardwareOf(await client.sysinfo()), opts);
}
