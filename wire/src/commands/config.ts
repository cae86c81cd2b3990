import { Args } from '@oclif/core';
import { WireCommand } from '../cli/base.js';
import { openLocalRegistry } from '../coordinator/local.js';
import { peersFor } from '../coordinator/peers.js';
import { WireError } from '../errors.js';
import { MESH_PREFIX } from '../registry/addresses.js';

export default class Config extends WireCommand {
  static override summary = 'Print a node\'s WireGuard configuration as the coordinator sees it (wg-quick format, no private key).';
  static override examples = ['<%= config.bin %> config g2'];
  static override args = { node: Args.string({ description: 'node name or id', required: true }) };

  async run(): Promise<{ node: string; config: string }> {
    const { args } = await this.parse(Config);
    const registry = openLocalRegistry(this.home);
    try {
      const node = registry.findNode(args.node);
      if (!node) throw new WireError('WIRE_NOT_FOUND', `no node named ${args.node} in the mesh; \`wire peers\` lists them.`);
      const publicKey = registry.getMeta('public_key');
      const endpoint = registry.getMeta('endpoint');
      if (!publicKey || !endpoint) throw new WireError('WIRE_NOT_COORDINATOR', 'the coordinator has not served yet: start `wire serve` once first.');
      const lines = [
        `# ${node.name} (${node.meshIp}), written by wire config; its private key never leaves ${node.name}.`,
        '[Interface]',
        `Address = ${node.meshIp}/${MESH_PREFIX}`,
        `ListenPort = ${node.listenPort}`,
        `PrivateKey = <on ${node.name}: sv get wire/private-key>`,
      ];
      for (const p of peersFor(node, registry.listNodes(), { publicKey, endpoint })) {
        lines.push('', `[Peer]`, `# ${p.name}`, `PublicKey = ${p.publicKey}`, `AllowedIPs = ${p.meshIp}/32`);
        if (p.endpoint) lines.push(`Endpoint = ${p.endpoint}`);
        if (p.keepalive) lines.push(`PersistentKeepalive = ${p.keepalive}`);
      }
      const config = lines.join('\n') + '\n';
      this.log(config.trimEnd());
      return { node: node.name, config };
    } finally {
      registry.close();
    }
  }
}
