import { Flags } from '@oclif/core';
import { duration, size, table, type Paint } from '../cli/base.js';
import { factFlags, FactsCommand, targetArg } from '../facts/cli.js';
import { fleetProcs, type FactsReport } from '../facts/fleet.js';
import type { PsFacts } from '../facts/ps.js';
import type { FanoutResult } from '../fanout/run.js';

/** renderProcs is one table of processes under each node's name, the busiest first. */
export function renderProcs(run: FanoutResult<PsFacts>, c: Paint, width = process.stdout.columns || 160): string {
  const blocks: string[] = [];
  for (const r of run.results) {
    if (r.outcome !== 'ok' || !r.value) continue;
    const v = r.value;
    const head = `${c.bold(c.cyan(r.node))} ${c.dim(`${v.matched === v.total ? `${v.total} processes` : `${v.matched} of ${v.total} processes match`}${v.procs.length < v.matched ? `, the top ${v.procs.length} shown` : ''}`)}`;
    if (!v.procs.length) {
      blocks.push(head);
      continue;
    }
    const rows = v.procs.map((p) => [String(p.pid), p.user, p.cpuPercent >= 80 ? c.red(p.cpuPercent.toFixed(1)) : p.cpuPercent.toFixed(1), p.memPercent.toFixed(1), size(p.rssBytes), duration(p.elapsedS * 1000), p.args || `[${p.comm}]`]);
    const text = table(['PID', 'USER', '%CPU', '%MEM', 'RSS', 'AGE', 'COMMAND'], rows);
    blocks.push(head + '\n' + text.split('\n').map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l)).join('\n'));
  }
  return blocks.join('\n\n');
}

export default class Ps extends FactsCommand {
  static override summary = 'Processes on each node, the busiest first (ps -eo ..., parsed by column).';
  static override description =
    'Runs ps on every node and shows, per node, the top processes by CPU (--sort mem or rss for others): pid, user, ' +
    '%CPU, %MEM, RSS, age and command line. --grep keeps those whose name or command line contains the text ' +
    '(case-insensitive); --top 0 shows them all. The ps itself is left out.';
  static override examples = ['<%= config.bin %> ps', '<%= config.bin %> ps @gpu --grep python --top 5', '<%= config.bin %> ps g2 --sort rss --json'];
  static override args = targetArg;
  static override flags = {
    ...factFlags,
    top: Flags.integer({ char: 'n', description: 'processes per node (default 15; 0 for all)', min: 0, default: 15 }),
    grep: Flags.string({ char: 'g', description: 'only processes whose name or command line contains this text' }),
    sort: Flags.string({ description: 'order by cpu (default), mem or rss', options: ['cpu', 'mem', 'rss'] }),
  };

  async run(): Promise<FactsReport<PsFacts>> {
    const { args, flags } = await this.parse(Ps);
    const query = { ...(flags.top ? { top: flags.top } : {}), ...(flags.grep ? { grep: flags.grep } : {}), ...(flags.sort ? { sort: flags.sort as 'cpu' | 'mem' | 'rss' } : {}) };
    return this.runFacts('ps', args.target, flags, (nodes, opts) => fleetProcs(this.pool, nodes, query, opts), (run, c) => renderProcs(run, c));
  }
}
