import { duration, size, table, type Paint } from '../cli/format.js';
import type { FanoutResult } from '../fanout/run.js';
import type { Level, StatusRow } from './status.js';

/** colourOf paints a reading by its level. */
const colourOf = (c: Paint, level: Level, text: string): string => (level === 'crit' ? c.red(text) : level === 'warn' ? c.yellow(text) : text);

/** renderStatus is the fleet overview table: one row per node, readings coloured by level, nodes that did not answer by their outcome. */
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
