import { duration, paint, size, table, type Paint } from '../cli/base.js';
import { factFlags, FactsCommand, targetArg } from '../facts/cli.js';
import type { FactsReport } from '../facts/fleet.js';
import { fleetStatus, type Level, type StatusRow } from '../facts/status.js';
import type { FanoutResult } from '../fanout/run.js';

/** colourOf paints a reading by its level. */
const colourOf = (c: Paint, level: Level, text: string): string => (level === 'crit' ? c.red(text) : level === 'warn' ? c.yellow(text) : text);

/** renderStatus is the fleet overview table, then the unreachable nodes with why. */
export function renderStatus(run: FanoutResult<StatusRow>, c: Paint): string {
  const rows = run.results.map((r) => {
    const v = r.value;
    if (r.outcome !== 'ok' || !v) return [c.bold(r.node), c.magenta(r.outcome === 'timedout' ? 'timed out' : r.outcome), '', '', '', '', '', '', ''];
    const failed = v.failedUnits === null ? c.dim('no systemd') : v.failedUnits.length ? c.red(String(v.failedUnits.length)) : '0';
    return [
      c.bold(r.node),
      c.green('up'),
      colourOf(c, v.levels.load, v.load.map((l) => l.toFixed(2)).join(' ')),
      v.cpuPercent === null ? '-' : colourOf(c, v.levels.cpu, `${v.cpuPercent.toFixed(0)}%`),
      colourOf(c, v.levels.memory, `${v.memory.percent.toFixed(0)}% of ${size(v.memory.totalBytes)}`),
      v.worstDisk ? colourOf(c, v.levels.disk, `${v.worstDisk.usePercent.toFixed(0)}% ${v.worstDisk.mount}`) : '-',
      duration(v.uptimeS * 1000),
      failed,
      `${v.rttMs} ms`,
    ];
  });
  return table(['NODE', 'STATE', 'LOAD', 'CPU', 'MEMORY', 'DISK', 'UPTIME', 'FAILED', 'RTT'], rows);
}

export default class Status extends FactsCommand {
  static override summary = 'The fleet at a glance: reachable or not (and why), load, CPU, memory, fullest disk, uptime, failed units, round trip.';
  static override description =
    'One sysinfo call and one round trip per node, all nodes at once over pooled vssh connections. A node that is down, ' +
    'refuses, or does not answer within --timeout is listed as such with the reason, never left out. Readings past their ' +
    'warning or critical mark are coloured on a TTY (CPU 80/95%, memory 85/95%, disk 85/95%, load per core 1.5/3). ' +
    'Exit code 1 when any node could not be read. The unreachable nodes become @failed for the next command.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status @gpu', '<%= config.bin %> status all --timeout 5s --json'];
  static override args = targetArg;
  static override flags = factFlags;

  async run(): Promise<FactsReport<StatusRow>> {
    const { args, flags } = await this.parse(Status);
    return this.runFacts('status', args.target, flags,
      (nodes, opts) => fleetStatus(this.pool, nodes, { timeoutMs: 10_000, ...opts }),
      (run, c) => renderStatus(run, c),
    );
  }
}
