import { openVault } from '@meshpop/vault';
import { VsshCommand } from '../../cli/base.js';
import { KEY_NAMES } from '../../keys.js';
import { listNodes } from '../../client/resolve.js';

export default class Keys extends VsshCommand {
  static override summary = 'Show which vssh keys this machine holds (names only, never values) and the nodes it can reach.';
  static override description =
    'A controller holds a master (vssh/master, or the Wire coordinator\'s wire/mesh-master) and derives each node\'s key from it; ' +
    'a node holds only its own key (vssh/node-key, or one derived from wire/node-secret). See `vssh keys init`, `keys issue`, `keys import`.';
  static override examples = ['<%= config.bin %> keys', '<%= config.bin %> keys --json'];

  async run(): Promise<{ master: string | null; nodeKey: string | null; nodes: { name: string; id: string }[] }> {
    await this.parse(Keys);
    const vault = await openVault({ home: this.home });
    let master: string | null = null;
    let nodeKey: string | null = null;
    try {
      for (const n of [KEY_NAMES.master, KEY_NAMES.wireMaster]) if (!master && (await vault.has(n))) master = n;
      for (const n of [KEY_NAMES.nodeKey, KEY_NAMES.wireSecret]) if (!nodeKey && (await vault.has(n))) nodeKey = n;
    } finally {
      await vault.close();
    }
    const nodes = (await listNodes(this.home)).map((n) => ({ name: n.name, id: n.id }));
    this.log(`controller master: ${master ?? 'none (run `vssh keys init` to control nodes from here)'}`);
    this.log(`node key:          ${nodeKey ?? (master ? `derived from ${master} (this machine serves with --id)` : 'none (join the mesh, or `vssh keys import`)')}`);
    this.log(`nodes known:       ${nodes.map((n) => n.name).join(', ') || 'none'}`);
    return { master, nodeKey, nodes };
  }
}
