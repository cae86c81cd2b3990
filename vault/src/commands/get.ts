import { Args } from '@oclif/core';
import { VaultCommand } from '../cli/base.js';
import { SecretValueJson, valueJson, writeValue } from '../cli/output.js';

export default class Get extends VaultCommand {
  static override summary = 'Print a secret\'s value.';
  static override description =
    'Prints the value exactly as stored (a newline is added only on a terminal). With --json: {name, value, encoding}, ' +
    'where encoding is utf8, or base64 for binary values. Through the unlock agent this takes little more than Node\'s own start.';
  static override examples = ['<%= config.bin %> get vssh/master', 'export TOKEN="$(<%= config.bin %> get github/token)"'];
  static override args = { name: Args.string({ description: 'secret name', required: true }) };

  async run(): Promise<SecretValueJson> {
    const { args } = await this.parse(Get);
    const vault = await this.vault();
    try {
      const value = await vault.get(args.name);
      if (!this.jsonEnabled()) writeValue(value);
      return valueJson(args.name, value);
    } finally {
      await vault.close();
    }
  }
}
