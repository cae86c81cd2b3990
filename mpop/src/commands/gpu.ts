import { size, table, type Paint } from '../cli/base.js';
import { absentLines, factFlags, joinBlocks, presentOnes, FactsCommand, targetArg } from '../facts/cli.js';
import { fleetGpus, type FactsReport } from '../facts/fleet.js';
import type { GpuFacts } from '../facts/nvidiasmi.js';
import type { Absent } from '../facts/tool.js';
import type { FanoutResult } from '../fanout/run.js';

const pct = (n: number | null): string => (n === null ? '-' : `${n}%`);

/** renderGpus is one row per GPU, then one plain line per node without any. */
export function renderGpus(run: FanoutResult<GpuFacts | Absent>, c: Paint): string {
  const { have, absent } = presentOnes(run);
  const rows = have.flatMap(({ node, value }) => value.gpus.map((g) => [
    c.bold(node), String(g.index), g.name,
    g.memoryTotalBytes === null ? '-' : `${size(g.memoryUsedBytes ?? 0)} / ${size(g.memoryTotalBytes)}`,
    pct(g.utilizationPercent),
    g.temperatureC === null ? '-' : g.temperatureC >= 85 ? c.red(`${g.temperatureC}°C`) : `${g.temperatureC}°C`,
    g.powerW === null ? '-' : `${g.powerW} W${g.powerLimitW === null ? '' : ` / ${g.powerLimitW} W`}`,
    pct(g.fanPercent), g.driver,
  ]));
  return joinBlocks(rows.length ? table(['NODE', '#', 'NAME', 'MEMORY', 'UTIL', 'TEMP', 'POWER', 'FAN', 'DRIVER'], rows) : '', absentLines(absent, c));
}

export default class Gpu extends FactsCommand {
  static override summary = 'NVIDIA GPUs on each node: memory, utilisation, temperature, power, fan, driver (nvidia-smi --query-gpu).';
  static override description =
    'Runs nvidia-smi --query-gpu with CSV output on every node. A node without an NVIDIA GPU says so plainly and why ' +
    '(nvidia-smi not installed, the driver not loaded, no device found); that is not a failure. A node where nvidia-smi ' +
    'fails otherwise is failed with its exit code and stderr.';
  static override examples = ['<%= config.bin %> gpu', '<%= config.bin %> gpu @gpu --json'];
  static override args = targetArg;
  static override flags = factFlags;

  async run(): Promise<FactsReport<GpuFacts | Absent>> {
    const { args, flags } = await this.parse(Gpu);
    return this.runFacts('gpu', args.target, flags,
      (nodes, opts) => fleetGpus(this.pool, nodes, opts),
      renderGpus,
    );
  }
}
