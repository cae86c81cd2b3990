import { Args } from '@oclif/core';
import { VaultCommand } from '../cli/base.js';

export default class Rm extends VaultCommand {
  static override summary = 'Remove a secret (every version).';
  static override examples = ['<%= config.bin %> rm github/token'];
  static override args = { name: Args.string({ description: 'secret name', required: true }) };

  async run(): Promise<{ removed: string }> {
    const { args } = await this.parse(Rm);
    const vault = await this.vault();
    try {
      await vault.remove(args.name);
    } finally {
      await vault.close();
    }
    this.log(`Removed ${args.name}.`);
    return { removed: args.name };
  }
}
