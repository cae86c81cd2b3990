import { Args, Flags } from '@oclif/core';
import { fanoutFlags, MpopCommand, paint, table, type Paint } from '../cli/base.js';
import { renderRecap } from '../cli/fanout-view.js';
import { progress } from '../cli/progress.js';
import { readHealConfig } from '../heal/config.js';
import { CHECKS } from '../heal/checks/index.js';
import { healFleet, type CheckReport, type NodeHeal } from '../heal/run.js';
import { recordRun } from '../runs.js';
import type { FanoutResult } from '../fanout/run.js';

export default class Heal extends MpopCommand {
  static override summary = 'Check nodes for common trouble (disk, inodes, failed units, stale mesh peers, load, memory, clock, vssh) and, with --fix, fix what is safe.';
  static override description =
    `Checks: ${CHECKS.map((c) => `${c.name} (${c.describe})`).join('; ')}. ` +
    'Each says ok, warn, problem, or unknown (it could not run there, and why: never ok). With --fix (or for the checks ' +
    'listed under auto: in heal.yaml) the safe fixes run: disk cleaning limited to what heal.yaml\'s disk.clean allows ' +
    '(apt, journal, rotated, tmp, or your own disk.commands), systemctl restart of a failed unit, a restart of wire\'s ' +
    'service for a stale mesh peer. After a fix the check runs again and says fixed or still failing; every fix is ' +
    'appended to $MESHPOP_HOME/mpop/audit.jsonl. Thresholds and the rest: $MESHPOP_HOME/mpop/heal.yaml. Exit code: 0 ' +
    'when no problem is left, 1 when one is.';
  static override examples = ['<%= config.bin %> heal all', '<%= config.bin %> heal @web --check disk --fix', '<%= config.bin %> heal n1 --json'];
  static override args = { target: Args.string({ description: 'a node, @group, glob, comma list or all (default)' }) };
  static override flags = {
    fix: Flags.boolean({ description: 'run the fixes of the problems found (audited)' }),
    check: Flags.string({ char: 'k', multiple: true, description: `only this check (${CHECKS.map((c) => c.name).join(', ')})` }),
    ...fanoutFlags,
  };

  async run(): Promise<{ target: string; nodes: NodeHeal[]; run: FanoutResult<NodeHeal> }> {
    const { args, flags } = await this.parse(Heal);
    const config = readHealConfig(this.paths.healConfig);
    const target = args.target ?? 'all';
    const nodes = (await this.inventory(flags.inventory)).resolve(target);
    const json = this.jsonEnabled();
    const bar = progress(!json && process.stderr.isTTY === true);
    const run = await healFleet(this.pool, nodes, { config, audit: this.paths.audit, fix: flags.fix, ...(flags.check ? { checks: flags.check } : {}) }, {
      ...this.fanoutOptions(flags),
      signal: this.signal(),
      onProgress: (p) => bar.update(`healing: ${p.done}/${p.total} nodes`, p.done, p.total),
    });
    bar.stop();
    recordRun(this.paths.lastRun, 'heal', target, run.results);
    if (!json) {
      const c = paint(process.stdout);
      for (const r of run.results) if (r.value) this.log(nodeBlock(r.value, c) + '\n');
      this.log(renderRecap(run, c, (r) => (r.value ? r.value.checks.filter((x) => (x.fix?.after?.status ?? x.status) === 'problem').map((x) => x.check).join(', ') + ' left' : undefined)));
    }
    if (run.results.some((r) => r.outcome !== 'ok')) process.exitCode = 1;
    return { target, nodes: run.results.flatMap((r) => (r.value ? [r.value] : [])), run };
  }
}

const STATUS = (c: Paint, s: string): string => (s === 'ok' ? c.green(s) : s === 'warn' ? c.yellow(s) : s === 'problem' ? c.red(s) : c.gray(s));

/** fixLine says what a fix did and what the check says after it. */
function fixLine(r: CheckReport, c: Paint): string {
  const f = r.fix!;
  const word = f.result === 'fixed' ? c.green('fixed') : f.result === 'not run' ? c.gray('not run') : c.red(f.result);
  return `fix: ${f.action}: ${word}: ${f.detail}${f.after ? ` (now ${f.after.status}: ${f.after.diagnosis})` : ''}`;
}

/** nodeBlock is one node's checks as a table, each fix under it. */
function nodeBlock(h: NodeHeal, c: Paint): string {
  const rows = h.checks.map((r) => [r.check, STATUS(c, r.status), r.diagnosis]);
  const fixes = h.checks.filter((r) => r.fix).map((r) => `  ${r.check} ${fixLine(r, c)}`);
  return [c.bold(h.node), table(['CHECK', 'STATUS', 'DIAGNOSIS'], rows), ...fixes].join('\n');
}
