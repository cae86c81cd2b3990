import type { VsshClient } from '@meshpop/vssh/client';
import { absent, Absent, lines, ParseError, runTool, ToolError, ToolOptions } from './tool.js';
import { commandText } from '../exec.js';

/** GPU_FIELDS are the nvidia-smi --query-gpu fields read, in order; name is last, since it alone may hold a comma. */
export const GPU_FIELDS = ['index', 'uuid', 'pci.bus_id', 'driver_version', 'memory.total', 'memory.used', 'utilization.gpu', 'utilization.memory', 'temperature.gpu', 'power.draw', 'power.limit', 'fan.speed', 'name'] as const;
/** NVIDIA_SMI_ARGV asks nvidia-smi for GPU_FIELDS as CSV without header or units. */
export const NVIDIA_SMI_ARGV = ['nvidia-smi', `--query-gpu=${GPU_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** Gpu is one NVIDIA GPU; a field nvidia-smi reports as [N/A], [Not Supported] or another [..] value is null. */
export interface Gpu {
  index: number;
  uuid: string;
  busId: string;
  driver: string;
  name: string;
  memoryTotalBytes: number | null;
  memoryUsedBytes: number | null;
  utilizationPercent: number | null;
  memoryUtilizationPercent: number | null;
  temperatureC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  fanPercent: number | null;
}

const num = (s: string): number | null => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : null);
const mib = (s: string): number | null => { const n = num(s); return n === null ? null : n * 1024 * 1024; };

/** parseGpuCsv reads the output of NVIDIA_SMI_ARGV (fields joined by ", ", one GPU a line). */
export function parseGpuCsv(text: string): Gpu[] {
  const n = GPU_FIELDS.length;
  return lines(text).map(({ n: at, text: line }) => {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < n) throw new ParseError('nvidia-smi --query-gpu', at, line, `${f.length} fields where ${n} were asked for`);
    const index = num(f[0]!);
    if (index === null) throw new ParseError('nvidia-smi --query-gpu', at, line, `the index "${f[0]}" is not a number`);
    return {
      index, uuid: f[1]!, busId: f[2]!, driver: f[3]!, name: f.slice(n - 1).join(', '),
      memoryTotalBytes: mib(f[4]!), memoryUsedBytes: mib(f[5]!), utilizationPercent: num(f[6]!), memoryUtilizationPercent: num(f[7]!),
      temperatureC: num(f[8]!), powerW: num(f[9]!), powerLimitW: num(f[10]!), fanPercent: num(f[11]!),
    };
  });
}

/** GpuFacts are a node's NVIDIA GPUs. */
export interface GpuFacts {
  present: true;
  gpus: Gpu[];
}

/**
 * readGpus queries nvidia-smi on the node. No nvidia-smi, no driver (exit 9), no NVML (12) or no device
 * (exit 6, "No devices were found") is an Absent saying which; any other failure is a ToolError.
 */
export async function readGpus(client: VsshClient, opts: ToolOptions = {}): Promise<GpuFacts | Absent> {
  const node = client.target.name;
  const run = await runTool(client, NVIDIA_SMI_ARGV, opts);
  if (run === 'missing') return absent(`no NVIDIA GPU on ${node} (nvidia-smi is not installed)`);
  const said = (run.stdout + run.stderr).trim().split('\n')[0]?.trim() ?? '';
  if (run.exitCode === 9) return absent(`no NVIDIA GPU on ${node} (nvidia-smi is installed, the NVIDIA driver is not loaded${said ? `: ${said}` : ''})`);
  if (run.exitCode === 12) return absent(`no NVIDIA GPU on ${node} (nvidia-smi is installed, the NVML library is not${said ? `: ${said}` : ''})`);
  if (run.exitCode === 6 || (run.exitCode === 0 && !run.stdout.trim())) return absent(`no NVIDIA GPU on ${node} (nvidia-smi found no device)`);
  if (run.exitCode !== 0) throw new ToolError(node, commandText({ argv: NVIDIA_SMI_ARGV }), run.exitCode, run.stderr || run.stdout);
  return { present: true, gpus: parseGpuCsv(run.stdout) };
}
