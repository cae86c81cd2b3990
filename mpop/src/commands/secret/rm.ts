import { Args } from '@oclif/core';
import { MpopCommand } from '../../cli/base.js';
import { removeSecret } from '../../secret/vault.js';

export default class SecretRm extends MpopCommand {
  static override summary = 'Remove a secret from the controller\'s vault.';
  static override examples = ['<%= config.bin %> secret rm app/old-token'];
  static override args = { name: Args.string({ required: true, ignoreStdin: true, description: 'the secret\'s name' }) };

  async run(): Promise<{ removed: string }> {
    const { args } = await this.parse(SecretRm);
    await removeSecret(this.home, args.name);
    if (!this.jsonEnabled()) this.log(`removed ${args.name}`);
    return { removed: args.name };
  }
}
