import { Args } from '@oclif/core';
import { WireCommand } from '../../cli/base.js';
import { openLocalRegistry } from '../../coordinator/local.js';

export default class TokenRevoke extends WireCommand {
  static override summary = 'Revoke unused join tokens (on the coordinator): by token id, or every unused token for a node name.';
  static override examples = ['<%= config.bin %> token revoke 3f2a9c0d1e4b5a6f', '<%= config.bin %> token revoke g2'];
  static override args = { token: Args.string({ description: 'token id (from `wire token list`) or node name', required: true }) };

  async run(): Promise<{ revoked: string[] }> {
    const { args } = await this.parse(TokenRevoke);
    const registry = openLocalRegistry(this.home);
    try {
      const revoked = registry.revokeTokens(args.token);
      this.log(`Revoked ${revoked.length} token${revoked.length === 1 ? '' : 's'}: ${revoked.join(', ')}`);
      return { revoked };
    } finally {
      registry.close();
    }
  }
}
