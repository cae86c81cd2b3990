import { Flags } from '@oclif/core';
import { VaultCommand } from '../cli/base.js';

export default class Split extends VaultCommand {
  static override summary = 'Make a new set of Shamir shares of the master key.';
  static override description = 'Any --threshold of the --shares printed rebuild the master key (`sv recover`). Shares of earlier splits keep working until `sv rekey`.';
  static override examples = ['<%= config.bin %> split', '<%= config.bin %> split --shares 7 --threshold 4'];
  static override flags = {
    shares: Flags.integer({ description: 'how many shares', default: 5 }),
    threshold: Flags.integer({ description: 'how many shares recover the vault', default: 3 }),
  };

  async run(): Promise<{ shares: string[]; threshold: number }> {
    const { flags } = await this.parse(Split);
    const vault = await this.vault();
    try {
      const shares = await vault.split(flags.shares, flags.threshold);
      this.log(`Recovery shares (any ${flags.threshold} of ${flags.shares}), shown only now:`);
      for (const s of shares) this.log(`  ${s}`);
      return { shares, threshold: flags.threshold };
    } finally {
      await vault.close();
    }
  }
}
