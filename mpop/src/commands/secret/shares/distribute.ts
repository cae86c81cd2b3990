import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint, parseDuration, table } from '../../../cli/base.js';
import { recordRun } from '../../../runs.js';
import { defaultThreshold, distributeShares } from '../../../secret/shares.js';

export default class SharesDistribute extends MpopCommand {
  static override summary = 'Split the controller\'s vault key into Shamir shares and store one on each target node over vssh.';
  static override description =
    'Any --threshold K of the N target nodes then rebuild the vault\'s master key (mpop secret shares collect), for when ' +
    'the controller\'s password is lost. Each node keeps its share as a 0600 file in $MESHPOP_HOME/vault/shares/ (0700), ' +
    'sealed (AES-256-GCM, SV01) under a key derived from this controller\'s vssh master: the file alone gives nothing, ' +
    'not even to root on that node, and one share would reveal nothing anyway. Every node must be reachable before ' +
    'anything is split. Shares of earlier splits stay valid until sv rekey. Audited in $MESHPOP_HOME/mpop/audit.jsonl ' +
    '(nodes, never shares). Keep a copy of vssh/master apart from the controller: a locked vault cannot give it, and ' +
    'collect needs it to reach the nodes (--master-file).';
  static override examples = ['<%= config.bin %> secret shares distribute @core --threshold 3', '<%= config.bin %> secret shares distribute g1,g2,g3'];
  static override args = { target: Args.string({ required: true, ignoreStdin: true, description: 'the nodes that each keep one share (at least 2)' }) };
  static override flags = {
    threshold: Flags.integer({ char: 'k', description: 'how many shares rebuild the key (default: a majority of the nodes)', min: 2 }),
    timeout: Flags.string({ char: 't', description: 'per node: give up after this long' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(SharesDistribute);
    const inv = await this.inventory(flags.inventory);
    const nodes = inv.resolve(args.target).map((n) => inv.byName.get(n)!);
    const r = await distributeShares(this.pool, nodes, {
      home: this.home,
      ...(flags.threshold ? { threshold: flags.threshold } : {}),
      ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
      signal: this.signal(),
    });
    recordRun(this.paths.lastRun, 'secret shares distribute', args.target, r.run.results);
    const failed = r.run.results.filter((x) => x.outcome !== 'ok');
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      this.log(table(['NODE', 'SHARE', 'WHERE'], r.run.results.map((x) => [x.node, x.outcome === 'ok' ? c.green('stored') : c.red(x.outcome), x.value?.path ?? x.error?.message ?? ''])));
      this.log(`any ${r.threshold} of these ${r.count} nodes rebuild the key of vault ${r.vault.slice(0, 8)} (key ${r.keyId})${r.threshold === defaultThreshold(r.count) && !flags.threshold ? ' (a majority; --threshold to choose)' : ''}`);
      if (failed.length) process.stderr.write(`mpop: ${failed.length} node(s) did not store a share: ${r.stored.length} hold one, ${r.threshold} needed${r.stored.length < r.threshold ? ': NOT ENOUGH, run it again' : ''}\n`);
    }
    if (failed.length) process.exitCode = 1;
    return { vault: r.vault, keyId: r.keyId, threshold: r.threshold, count: r.count, stored: r.stored, nodes: r.run.results.map((x) => ({ node: x.node, outcome: x.outcome, path: x.value?.path ?? null, error: x.error ?? null })) };
  }
}
