import { openVault } from '@meshpop/vault';
import { VsshCommand } from '../../cli/base.js';
import { initMaster } from '../../keys.js';

export default class KeysInit extends VsshCommand {
  static override summary = 'Make this machine a controller: create vssh/master in its vault (unless a master is already there).';
  static override description = 'On the Wire coordinator nothing is created: its wire/mesh-master already is the master every node\'s key derives from.';
  static override examples = ['<%= config.bin %> keys init'];

  async run(): Promise<{ master: string; created: boolean }> {
    const vault = await openVault({ home: this.home });
    try {
      const r = await initMaster(vault);
      this.log(r.created ? `created ${r.source}; issue node keys with \`vssh keys issue NODE\`` : `this machine already holds a master (${r.source})`);
      return { master: r.source, created: r.created };
    } finally {
      await vault.close();
    }
  }
}
