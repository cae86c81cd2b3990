import { Args, Flags } from '@oclif/core';
import { WireCommand } from '../../cli/base.js';
import { openLocalRegistry } from '../../coordinator/local.js';
import { WireError } from '../../errors.js';
import { encodeToken, parseTtl } from '../../token.js';


export default class TokenCreate extends WireCommand {
  static override summary = 'Make a single-use join token for a node (on the coordinator).';
  static override description = 'Prints the command to run on the new node. The token names the node, expires after --ttl, works once, and carries the coordinator\'s certificate fingerprint.';
  static override examples = ['<%= config.bin %> token create g2 --ttl 1h', '<%= config.bin %> token create g2 --json'];
  static override args = { name: Args.string({ description: 'the name the node will have', required: true }) };
  static override flags = { ttl: Flags.string({ description: 'how long the token is valid (15m, 1h, 7d; at most 90d)', default: '1h' }) };

  async run(): Promise<{ token: string; command: string; expiresAt: string }> {
    const { args, flags } = await this.parse(TokenCreate);
    const ttlMs = parseTtl(flags.ttl);
    const registry = openLocalRegistry(this.home);
    try {
      const url = registry.getMeta('url');
      const fingerprint = registry.getMeta('fingerprint');
      const probePort = Number(registry.getMeta('probe_port'));
      if (!url || !fingerprint) throw new WireError('WIRE_NOT_COORDINATOR', 'the coordinator has not served yet: start `wire serve --endpoint ADDR` once first.');
      const t = registry.createToken(args.name, ttlMs);
      const token = encodeToken({ url, fingerprint, name: args.name, id: t.id, secret: t.secret, probePort });
      const command = `wire up --join ${token}`;
      this.log(command);
      return { token, command, expiresAt: new Date(t.expires).toISOString() };
    } finally {
      registry.close();
    }
  }
}
