import { Args, Flags } from '@oclif/core';
import { openVault } from '@meshpop/vault';
import { VsshCommand } from '../../cli/base.js';
import { controllerMaster, deriveNodeKey, encodeIssuedKey } from '../../keys.js';
import { resolveNode } from '../../client/resolve.js';
import { isVsshError } from '../../errors.js';

export default class KeysIssue extends VsshCommand {
  static override summary = 'Print the one-time command that gives a node outside the mesh its vssh key.';
  static override description =
    'Run the printed command on the node (it stores the key in the node\'s vault as vssh/node-key). The line carries a secret: ' +
    'move it over a channel you trust, and do not leave it in shell history or logs.';
  static override examples = ['<%= config.bin %> keys issue nas1', '<%= config.bin %> keys issue nas1 --id nas1'];
  static override args = { node: Args.string({ required: true, description: 'node name' }) };
  static override flags = { id: Flags.string({ description: 'the node\'s id (default: its id in nodes.json or the mesh, else its name)' }) };

  async run(): Promise<{ node: string; id: string; command: string }> {
    const { args, flags } = await this.parse(KeysIssue);
    let id = flags.id;
    if (!id) {
      try {
        id = (await resolveNode(args.node, this.home)).id;
      } catch (err) {
        if (!isVsshError(err, 'VSSH_UNKNOWN_NODE')) throw err;
        id = args.node;
      }
    }
    const vault = await openVault({ home: this.home });
    let command: string;
    try {
      command = `vssh keys import ${encodeIssuedKey(id, deriveNodeKey((await controllerMaster(vault)).master, id))}`;
    } finally {
      await vault.close();
    }
    this.log(command);
    return { node: args.node, id, command };
  }
}
