import { size, table, type Paint } from '../cli/base.js';
import { factFlags, FactsCommand, targetArg } from '../facts/cli.js';
import type { FactsReport } from '../facts/fleet.js';
import { fleetHardware, type Hardware } from '../facts/hw.js';
import type { FanoutResult } from '../fanout/run.js';

/** renderHardware is one row per node: CPU, memory, disks, GPUs, kernel, arch. */
export function renderHardware(run: FanoutResult<Hardware>, c: Paint): string {
  const rows = run.results.filter((r) => r.outcome === 'ok' && r.value).map((r) => {
    const h = r.value!;
    const disk = h.disks.reduce((n, d) => n + d.totalBytes, 0);
    const gpus = h.gpus.length ? [...new Set(h.gpus.map((g) => g.name))].map((n) => `${h.gpus.filter((g) => g.name === n).length}x ${n}`).join(', ') : c.dim('none seen');
    return [c.bold(r.node), `${h.cpu.count}x ${h.cpu.model ?? 'unknown'}`, size(h.memory.totalBytes), `${size(disk)} in ${h.disks.length}`, gpus, h.kernel.split(' ')[0] ?? h.kernel, h.arch];
  });
  return rows.length ? table(['NODE', 'CPU', 'MEMORY', 'DISKS', 'GPUS', 'KERNEL', 'ARCH'], rows) : '';
}

export default class Hw extends FactsCommand {
  static override summary = 'What each node is made of: CPU model and count, memory, disks, GPUs, kernel, architecture.';
  static override description =
    'From one sysinfo call per node. GPUs are the NVIDIA GPUs the node\'s daemon saw through nvidia-smi; mpop gpu says ' +
    'why a node has none (no nvidia-smi, no driver). --json gives every disk and GPU.';
  static override examples = ['<%= config.bin %> hw', '<%= config.bin %> hw @gpu --json'];
  static override args = targetArg;
  static override flags = factFlags;

  async run(): Promise<FactsReport<Hardware>> {
    const { args, flags } = await this.parse(Hw);
    return this.runFacts('hw', args.target, flags,
      (nodes, opts) => fleetHardware(this.pool, nodes, { timeoutMs: 15_000, ...opts }),
      renderHardware,
    );
  }
}
