import { Args, Flags } from '@oclif/core';
import { WireCommand } from '../../cli/base.js';
import { openLocalRegistry } from '../../coordinator/local.js';
import { WireError } from '../../errors.js';
import { encodeToken } from '../../token.js';

/** parseTtl reads 90s, 15m, 1h, 7d as milliseconds. */
function parseTtl(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new WireError('WIRE_BAD_INPUT', `"${text}" is not a TTL; write e.g. 15m, 1h or 7d.`);
  return Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export default class TokenCreate extends WireCommand {
  static override summary = 'Make a single-use join token for a node (on the coordinator).';
  static override description = 'Prints the command to run on the new node. The token names the node, expires after --ttl, works once, and carries the coordinator\'s certificate fingerprint.';
  static override examples = ['<%= config.bin %> token create g2 --ttl 1h', '<%= config.bin %> token create g2 --json'];
  static override args = { name: Args.string({ description: 'the name the node will have', required: true }) };
  static override flags = { ttl: Flags.string({ description: 'how long the token is valid (15m, 1h, 7d)', default: '1h' }) };

  async run(): Promise<{ token: string; command: string; expiresAt: string }> {
    const { args, flags } = await this.parse(TokenCreate);
    const registry = openLocalRegistry(this.home);
    try {
      const url = registry.getMeta('url');
      const fingerprint = registry.getMeta('fingerprint');
      const probePort = Number(registry.getMeta('probe_port'));
      if (!url || !fingerprint) throw new WireError('WIRE_NOT_COORDINATOR', 'the coordinator has not served yet: start `wire serve --endpoint ADDR` once first.');
      const t = registry.createToken(args.name, parseTtl(flags.ttl));
      const token = encodeToken({ url, fingerprint, name: args.name, id: t.id, secret: t.secret, probePort });
      const command = `wire up --join ${token}`;
      this.log(command);
      return { token, command, expiresAt: new Date(t.expires).toISOString() };
    } finally {
      registry.close();
    }
  }
}
