import { table, type Paint } from '../cli/base.js';
import { absentLines, factFlags, joinBlocks, presentOnes, FactsCommand, targetArg } from '../facts/cli.js';
import { fleetTemps, type FactsReport } from '../facts/fleet.js';
import { UNITS, type Reading, type TempFacts } from '../facts/sensors.js';
import type { Absent } from '../facts/tool.js';
import type { FanoutResult } from '../fanout/run.js';
import { Flags } from '@oclif/core';

const val = (r: Reading, n: number | null): string => (n === null ? '-' : `${Number(n.toFixed(1))}${UNITS[r.kind] ? (r.kind === 'temp' ? '' : ' ') + UNITS[r.kind] : ''}`);

/** renderTemps is one row per reading (temperatures first), then one plain line per node without sensors. */
export function renderTemps(run: FanoutResult<TempFacts | Absent>, c: Paint, all = false): string {
  const { have, absent } = presentOnes(run);
  const rows = have.flatMap(({ node, value }) => value.readings
    .filter((r) => all || r.kind === 'temp' || r.kind === 'fan')
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'temp' ? -1 : b.kind === 'temp' ? 1 : 0))
    .map((r) => {
      const hot = r.alarm || (r.input !== null && ((r.crit !== null && r.input >= r.crit) || (r.max !== null && r.input >= r.max)));
      return [c.bold(node), r.chip, r.label, hot ? c.red(val(r, r.input)) : val(r, r.input), val(r, r.max), val(r, r.crit), value.source];
    }));
  return joinBlocks(rows.length ? table(['NODE', 'CHIP', 'SENSOR', 'NOW', 'HIGH', 'CRIT', 'FROM'], rows) : '', absentLines(absent, c));
}

export default class Temp extends FactsCommand {
  static override summary = 'Temperatures (and fans) on each node, from lm-sensors (sensors -j) or the kernel\'s thermal zones.';
  static override description =
    'Reads sensors -j on every node; where lm-sensors is not installed or finds no chip, /sys/class/thermal. A node ' +
    'with neither says "no sensors on NODE" and why; that is not a failure (a VM or a container has none). A reading at ' +
    'or past its high or critical mark, or with its alarm set, is red. --all adds voltages, power and the rest.';
  static override examples = ['<%= config.bin %> temp', '<%= config.bin %> temp g2 --all', '<%= config.bin %> temp --json'];
  static override args = targetArg;
  static override flags = { ...factFlags, all: Flags.boolean({ char: 'a', description: 'every reading (voltages, power, current), not only temperatures and fans' }) };

  async run(): Promise<FactsReport<TempFacts | Absent>> {
    const { args, flags } = await this.parse(Temp);
    return this.runFacts('temp', args.target, flags,
      (nodes, opts) => fleetTemps(this.pool, nodes, opts),
      (run, c) => renderTemps(run, c, flags.all),
    );
  }
}
