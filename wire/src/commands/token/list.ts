import { WireCommand, iso, table } from '../../cli/base.js';
import { openLocalRegistry } from '../../coordinator/local.js';
import { TokenRecord } from '../../registry/registry.js';

export default class TokenList extends WireCommand {
  static override summary = 'List join tokens (never their secrets): for whom, when they expire, whether used or revoked.';
  static override examples = ['<%= config.bin %> token list'];

  async run(): Promise<TokenRecord[]> {
    await this.parse(TokenList);
    const registry = openLocalRegistry(this.home);
    try {
      const tokens = registry.listTokens();
      const now = Date.now();
      this.log(table(['ID', 'NODE', 'EXPIRES', 'STATE'], tokens.map((t) => [t.id, t.name, iso(t.expires), t.usedAt ? `used ${iso(t.usedAt)}` : t.revokedAt ? `revoked ${iso(t.revokedAt)}` : t.expires < now ? 'expired' : 'unused'])));
      return tokens;
    } finally {
      registry.close();
    }
  }
}
