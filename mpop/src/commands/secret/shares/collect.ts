import { Args, Flags } from '@oclif/core';
import { readPasswordFile } from '@meshpop/vault';
import { Pool } from '@meshpop/vssh';
import { MpopCommand, paint, parseDuration } from '../../../cli/base.js';
import { recordRun } from '../../../runs.js';
import { fleetMaster } from '../../../secret/master.js';
import { collectShares, type CollectAction } from '../../../secret/shares.js';

export default class SharesCollect extends MpopCommand {
  static override summary = 'Gather the vault\'s Shamir shares back from the nodes: check them, unlock the vault, or set a new password.';
  static override description =
    'Fetches each node\'s share over vssh, opens its seal (an altered share, one moved between nodes or of another vault ' +
    'is refused, naming the node) and rebuilds the master key from K of them; the vault checks the key, so a bad share ' +
    'never gives a garbage key. Fewer good shares than K is an error saying how many were found and needed. Without ' +
    '--recover or --new-password-file it only checks that the shares rebuild the key. --recover unlocks the vault (starts ' +
    'its agent, as sv unlock); --new-password-file F sets the password in F (the way back from a lost password). ' +
    'Reaching the nodes takes the vssh master: from the vault when it opens, else --master-file (a copy of vssh/master). ' +
    'Exit code 1 when the key cannot be rebuilt.';
  static override examples = [
    '<%= config.bin %> secret shares collect @core',
    '<%= config.bin %> secret shares collect @core --master-file /media/usb/vssh-master --new-password-file new-pw.txt',
    '<%= config.bin %> secret shares collect g1,g2,g3 --recover',
  ];
  static override args = { target: Args.string({ required: true, ignoreStdin: true, description: 'nodes that hold shares (at least K of them)' }) };
  static override flags = {
    recover: Flags.boolean({ description: 'unlock the vault with the rebuilt key (start its agent)' }),
    'new-password-file': Flags.string({ description: 'set the vault\'s password to the one in this file' }),
    'master-file': Flags.string({ description: 'a file holding the vssh master (base64), for when the vault is locked' }),
    'unlock-timeout': Flags.string({ description: 'with --recover: lock again after this long unused (default 15m)' }),
    timeout: Flags.string({ char: 't', description: 'per node: give up after this long' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(SharesCollect);
    if (flags.recover && flags['new-password-file']) this.usage('--recover unlocks and --new-password-file sets a password: choose one');
    let action: CollectAction = { kind: 'check' };
    if (flags['new-password-file']) {
      const password = readPasswordFile(flags['new-password-file']);
      if (!password) this.usage(`--new-password-file ${flags['new-password-file']} is empty`);
      action = { kind: 'new-password', password };
    } else if (flags.recover) action = { kind: 'unlock', ...(flags['unlock-timeout'] ? { idleMs: parseDuration(flags['unlock-timeout'], '--unlock-timeout') } : {}) };
    const inv = await this.inventory(flags.inventory);
    const nodes = inv.resolve(args.target).map((n) => inv.byName.get(n)!);
    const { master } = await fleetMaster(this.home, flags['master-file']);
    const pool = new Pool({ home: this.home, master, retries: 1 });
    try {
      const r = await collectShares(pool, nodes, { home: this.home, master, action, signal: this.signal(), ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}) });
      recordRun(this.paths.lastRun, 'secret shares collect', args.target, r.run.results);
      if (!this.jsonEnabled()) {
        const c = paint(process.stdout);
        const done = { check: 'the vault is unchanged (--recover unlocks it, --new-password-file sets a password)', unlock: `the vault is unlocked (agent pid ${r.agentPid})`, 'new-password': 'the vault has its new password' }[r.action];
        this.log(`${c.green('rebuilt')} the key of vault ${r.vault.slice(0, 8)} from ${r.used.join(', ')} (${r.threshold} needed, ${r.found} good found); ${done}`);
        for (const w of r.warnings) process.stderr.write(`mpop: ${w}\n`);
      }
      return { vault: r.vault, threshold: r.threshold, found: r.found, used: r.used, action: r.action, ...(r.agentPid ? { agentPid: r.agentPid } : {}), warnings: r.warnings, nodes: r.run.results.map((x) => ({ node: x.node, outcome: x.outcome, error: x.error ?? null })) };
    } finally {
      await pool.close();
    }
  }
}
