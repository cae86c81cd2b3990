import { Args } from '@oclif/core';
import { WireCommand } from '../cli/base.js';
import { openLocalRegistry } from '../coordinator/local.js';

export default class Remove extends WireCommand {
  static override summary = 'Revoke a node (on the coordinator): every other node drops it within one sync interval.';
  static override description = 'Its credential stops working and its mesh address is never given out again.';
  static override examples = ['<%= config.bin %> remove g2'];
  static override args = { node: Args.string({ description: 'node name or id', required: true }) };

  async run(): Promise<{ removed: string; meshIp: string }> {
    const { args } = await this.parse(Remove);
    const registry = openLocalRegistry(this.home);
    try {
      const node = registry.removeNode(args.node);
      this.log(`Removed ${node.name} (${node.meshIp}).`);
      return { removed: node.name, meshIp: node.meshIp };
    } finally {
      registry.close();
    }
  }
}
