import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint } from '../cli/base.js';
import { renderRecap } from '../cli/fanout-view.js';
import { splitTargetPath } from '../deploy/layout.js';
import { rollbackFleet } from '../deploy/releases.js';
import { rollbackTable } from '../deploy/view.js';
import { recordRun } from '../runs.js';

export default class Rollback extends MpopCommand {
  static override summary = 'Switch a deployed path back to the release before the live one (or --to one), atomically, on each node.';
  static override description =
    'Renames a symlink to the earlier release over PATH on each node, then runs --restart. The releases newer than the ' +
    'one now live are removed (as Capistrano does: deploy again to go forward), so a second rollback goes further back. ' +
    'A node with no earlier release fails with a clear message; the others go on. Exit code: 0 when every node rolled ' +
    'back; 1 when any did not.';
  static override examples = [
    "<%= config.bin %> rollback @web:/var/www/site --restart 'systemctl reload nginx'",
    '<%= config.bin %> rollback n1:/srv/app --to 20261202T071500Z-3f2a',
  ];
  static override args = { destination: Args.string({ required: true, description: 'TARGET:PATH, as @web:/var/www/site' }) };
  static override flags = {
    to: Flags.string({ description: 'the release to go back to (mpop releases lists them); default: the one before the live one' }),
    restart: Flags.string({ char: 'r', description: 'a shell command run on each node after the switch' }),
    concurrency: Flags.integer({ char: 'f', description: 'nodes at once (default 500)', min: 1 }),
    timeout: Flags.string({ char: 't', description: 'per node: give up on a node after this long (30s)' }),
    batch: Flags.string({ char: 'b', description: 'rolling waves of N nodes or N% of them' }),
    'stop-on-error': Flags.boolean({ description: 'start no new node once one has failed' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const { args, flags } = await this.parse(Rollback);
    const { target, path } = splitTargetPath(args.destination);
    const nodes = (await this.inventory(flags.inventory)).resolve(target);
    const run = await rollbackFleet(this.pool, nodes, { path, ...(flags.to ? { to: flags.to } : {}), ...(flags.restart ? { restart: flags.restart } : {}) }, { ...this.fanoutOptions(flags), signal: this.signal() });
    recordRun(this.paths.lastRun, 'rollback', target, run.results);
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      const t = rollbackTable(run, c);
      if (t) this.log(t + '\n');
      this.log(renderRecap(run, c));
    }
    if (!run.results.every((r) => r.outcome === 'ok')) process.exitCode = 1;
    return {
      target,
      path,
      nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, changed: r.changed, ...(r.value ? r.value : {}), error: r.error ?? null })),
      counts: run.counts,
      ...(run.stopped ? { stopped: run.stopped } : {}),
    };
  }
}
