import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint } from '../cli/base.js';
import { renderRecap } from '../cli/fanout-view.js';
import { splitTargetPath } from '../deploy/layout.js';
import { listReleases } from '../deploy/releases.js';
import { releasesText } from '../deploy/view.js';

export default class Releases extends MpopCommand {
  static override summary = 'List the releases mpop deploy made for a path on each node, newest first, the live one marked.';
  static override description =
    'Reads PATH and PATH.releases on each node (read-only): which release is live, which one a rollback would go back to, ' +
    'and anything an interrupted deploy left (removed by the next deploy).';
  static override examples = ['<%= config.bin %> releases @web:/var/www/site', '<%= config.bin %> releases n1:/srv/app --json'];
  static override args = { destination: Args.string({ required: true, description: 'TARGET:PATH, as @web:/var/www/site' }) };
  static override flags = {
    concurrency: Flags.integer({ char: 'f', description: 'nodes at once (default 500)', min: 1 }),
    timeout: Flags.string({ char: 't', description: 'per node: give up on a node after this long (30s)' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const { args, flags } = await this.parse(Releases);
    const { target, path } = splitTargetPath(args.destination);
    const nodes = (await this.inventory(flags.inventory)).resolve(target);
    const run = await listReleases(this.pool, nodes, path, { ...this.fanoutOptions(flags), signal: this.signal() });
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      const text = releasesText(run, c);
      if (text) this.log(text + '\n');
      this.log(renderRecap(run, c));
    }
    if (!run.results.every((r) => r.outcome === 'ok')) process.exitCode = 1;
    return {
      target,
      path,
      nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, ...(r.value ? r.value : {}), error: r.error ?? null })),
      counts: run.counts,
    };
  }
}
