import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint, parseDuration } from '../cli/base.js';
import { renderRecap } from '../cli/fanout-view.js';
import { deployFleet, DEFAULT_KEEP, type DeployValue } from '../deploy/deploy.js';
import { splitTargetPath } from '../deploy/layout.js';
import { deployTable, dryRunText, stepView } from '../deploy/view.js';
import type { FanoutResult } from '../fanout/run.js';
import { recordRun } from '../runs.js';

export default class Deploy extends MpopCommand {
  static override summary = 'Deploy a folder to many nodes as a new release, switched in atomically; restart, health check, rollback on failure.';
  static override description =
    'Each node gets a new release folder beside the previous ones (PATH.releases/<id>), filled from a copy of its live ' +
    'release made on the node itself, so only changed files cross the wire (vssh sync with delete). Once complete it is ' +
    'switched in by renaming a symlink over PATH (atomic), then --restart runs, then --health (retried for up to ' +
    '--health-timeout). A node whose restart or health check fails is switched back, restarted again and reported failed, ' +
    'and the rollout stops: no new node starts (any failed node stops it). With --batch, one node goes first on its own ' +
    '(a canary), then waves of N or N%. A deploy killed at any moment leaves every node on its old or its new release; the ' +
    'next one removes what it left. A second deploy or rollback of the same path on a node while one runs is refused. The last --keep releases stay (the live one and the one before it always). ' +
    'PATH must not exist yet or be a release symlink made by deploy; a plain folder there is refused (move it aside). ' +
    'Exit code: 0 when every node deployed; 1 when any did not; 2 for a usage error; 3 when the target matches nothing.';
  static override examples = [
    "<%= config.bin %> deploy ./site @web:/var/www/site --restart 'systemctl reload nginx' --health 'curl -fsS localhost'",
    "<%= config.bin %> deploy ./app 'api-*':/srv/app --exclude node_modules --exclude '*.map' --batch 25%",
    '<%= config.bin %> deploy ./site @web:/var/www/site --dry-run',
    '<%= config.bin %> deploy ./site @failed:/var/www/site',
  ];
  static override args = {
    local: Args.string({ required: true, description: 'the local folder whose contents are deployed' }),
    destination: Args.string({ required: true, description: 'TARGET:PATH, as @web:/var/www/site (PATH becomes a symlink to the live release)' }),
  };
  static override flags = {
    exclude: Flags.string({ char: 'x', multiple: true, multipleNonGreedy: true, description: 'leave out paths matching this pattern (rsync rules, as vssh: *.log, node_modules, build/out); repeatable' }),
    restart: Flags.string({ char: 'r', description: 'a shell command run on each node after the switch (and again after a rollback)' }),
    health: Flags.string({ description: 'a shell command that must exit 0 after the restart; retried until --health-timeout' }),
    'health-timeout': Flags.string({ description: 'how long the health check may take to pass (default 30s)' }),
    keep: Flags.integer({ char: 'k', description: `releases kept per node (default ${DEFAULT_KEEP}; never fewer than the live one and the one before)`, min: 1 }),
    checksum: Flags.boolean({ char: 'c', description: 'compare files by SHA-256, not size and mtime (slower; also brings over a chmod that left the mtime as it was)' }),
    'dry-run': Flags.boolean({ char: 'n', description: 'say what would cross and what would be deleted on each node; change nothing' }),
    concurrency: Flags.integer({ char: 'f', description: 'nodes at once (default 500)', min: 1 }),
    timeout: Flags.string({ char: 't', description: 'per node: give up on a node after this long (5m); the rollout then stops' }),
    batch: Flags.string({ char: 'b', description: 'a canary node first, then rolling waves of N nodes or N% of them' }),
    'stop-on-error': Flags.boolean({ description: 'always on for deploy: a failed node stops the rollout', hidden: true }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const { args, flags } = await this.parse(Deploy);
    const { target, path } = splitTargetPath(args.destination);
    const inv = await this.inventory(flags.inventory);
    const nodes = inv.resolve(target);
    const view = stepView({ quiet: this.jsonEnabled(), label: flags['dry-run'] ? 'deploy --dry-run' : 'deploy' });
    let run: FanoutResult<DeployValue>;
    try {
      run = await deployFleet(
        this.pool,
        nodes,
        {
          local: args.local,
          path,
          ...(flags.exclude ? { exclude: flags.exclude } : {}),
          ...(flags.restart ? { restart: flags.restart } : {}),
          ...(flags.health ? { health: flags.health } : {}),
          ...(flags['health-timeout'] ? { healthTimeoutMs: parseDuration(flags['health-timeout'], '--health-timeout') } : {}),
          ...(flags.keep ? { keep: flags.keep } : {}),
          ...(flags['dry-run'] ? { dryRun: true } : {}),
          ...(flags.checksum ? { checksum: true } : {}),
        },
        {
          ...this.fanoutOptions(flags),
          signal: this.signal(),
          onProgress: (p) => view.onProgress(p),
          onStep: (n, s) => view.onStep(n, s),
        },
      );
    } finally {
      view.stop();
    }
    if (!flags['dry-run']) recordRun(this.paths.lastRun, 'deploy', target, run.results);
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      if (flags['dry-run']) {
        const text = dryRunText(run);
        if (text) this.log(text + '\n');
      }
      this.log(deployTable(run, c) + '\n');
      this.log(renderRecap(run, c));
    }
    if (!run.results.every((r) => r.outcome === 'ok')) process.exitCode = 1;
    return {
      target,
      path,
      dryRun: flags['dry-run'] === true,
      nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, changed: r.changed, durationMs: Math.round(r.durationMs), ...(r.value ? r.value : {}), error: r.error ?? null })),
      counts: run.counts,
      durationMs: Math.round(run.durationMs),
      ...(run.stopped ? { stopped: run.stopped } : {}),
    };
  }
}
