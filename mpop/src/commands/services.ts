import { Flags } from '@oclif/core';
import { table, type Paint } from '../cli/base.js';
import { absentLines, factFlags, FactsCommand, joinBlocks, presentOnes, targetArg } from '../facts/cli.js';
import { fleetServices, type FactsReport } from '../facts/fleet.js';
import type { ServicesFacts } from '../facts/systemctl.js';
import type { Absent } from '../facts/tool.js';
import type { FanoutResult } from '../fanout/run.js';

/** renderServices is one row per unit (failed ones red), then one plain line per node without systemd. */
export function renderServices(run: FanoutResult<ServicesFacts | Absent>, c: Paint): string {
  const { have, absent } = presentOnes(run);
  const rows = have.flatMap(({ node, value }) => value.units.map((u) => {
    const state = u.active === 'failed' ? c.red(u.active) : u.active === 'active' ? c.green(u.active) : c.yellow(u.active);
    return [c.bold(node), u.unit, u.load === 'loaded' ? u.load : c.yellow(u.load), state, u.sub, u.description.slice(0, 60)];
  }));
  const empty = have.filter((h) => !h.value.units.length).map((h) => c.dim(`no matching unit on ${h.node}`)).join('\n');
  return joinBlocks(rows.length ? table(['NODE', 'UNIT', 'LOAD', 'ACTIVE', 'SUB', 'DESCRIPTION'], rows) : '', empty, absentLines(absent, c));
}

export default class Services extends FactsCommand {
  static override summary = 'systemd units on each node with their state and sub-state; --failed for the broken ones only.';
  static override description =
    'Runs systemctl list-units --output=json (plain columns on a systemd older than 246) on every node. By default the ' +
    'loaded services that are active or failed, as systemctl shows them; --all adds the inactive ones, --type another ' +
    'unit type, and PATTERNs (systemctl\'s own globs) narrow it. A node where systemd is not running (a container, a ' +
    'namespace) says "no systemd on NODE"; that is not a failure. Exit code 1 when a node could not be asked.';
  static override examples = ['<%= config.bin %> services', '<%= config.bin %> services @web --failed', "<%= config.bin %> services all --unit 'nginx*' --json"];
  static override args = targetArg;
  static override flags = {
    ...factFlags,
    failed: Flags.boolean({ description: 'only failed units' }),
    all: Flags.boolean({ char: 'a', description: 'inactive units too' }),
    type: Flags.string({ description: 'unit type: service (default), socket, timer, mount, ..., or all' }),
    unit: Flags.string({ char: 'u', multiple: true, description: 'a unit name or glob (repeatable)' }),
  };

  async run(): Promise<FactsReport<ServicesFacts | Absent>> {
    const { args, flags } = await this.parse(Services);
    for (const u of flags.unit ?? []) if (u.startsWith('-') || /[\s\0]/.test(u)) this.usage(`--unit "${u}" is not a unit name or glob`);
    if (flags.type && !/^[a-z]+$/.test(flags.type)) this.usage(`--type "${flags.type}" is not a unit type (service, socket, timer, mount, all, ...)`);
    const query = { ...(flags.failed ? { failed: true } : {}), ...(flags.all ? { all: true } : {}), ...(flags.type ? { type: flags.type } : {}), ...(flags.unit ? { patterns: flags.unit } : {}) };
    return this.runFacts('services', args.target, flags, (nodes, opts) => fleetServices(this.pool, nodes, query, opts), renderServices);
  }
}
