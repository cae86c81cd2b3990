import { Args, Flags } from '@oclif/core';
import { openVault } from '@meshpop/vault';
import { VsshCommand } from '../../cli/base.js';
import { decodeIssuedKey, KEY_NAMES } from '../../keys.js';
import { VsshError } from '../../errors.js';

export default class KeysImport extends VsshCommand {
  static override summary = 'Store this node\'s vssh key (the text `vssh keys issue NODE` printed) in its vault.';
  static override examples = ['<%= config.bin %> keys import vsk1.…', 'cat key.txt | <%= config.bin %> keys import'];
  static override args = { key: Args.string({ description: 'the vsk1.… text (read from stdin when absent)' }) };
  static override flags = { force: Flags.boolean({ description: 'replace a key the vault already holds' }) };

  async run(): Promise<{ id: string; stored: string }> {
    const { args, flags } = await this.parse(KeysImport);
    let text = args.key;
    if (!text) {
      if (process.stdin.isTTY) throw new VsshError('VSSH_BAD_INPUT', 'give the vsk1.… text as an argument or on stdin.');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
      text = Buffer.concat(chunks).toString('utf8');
    }
    const { nodeId, key } = decodeIssuedKey(text);
    const vault = await openVault({ home: this.home });
    try {
      if ((await vault.has(KEY_NAMES.nodeKey)) && !flags.force) throw new VsshError('VSSH_BAD_INPUT', `the vault already holds ${KEY_NAMES.nodeKey}; add --force to replace it.`);
      await vault.set(KEY_NAMES.nodeKey, Buffer.from(key).toString('base64'), { tags: ['vssh'] });
    } finally {
      await vault.close();
    }
    this.log(`stored ${KEY_NAMES.nodeKey} for node id ${nodeId}; restart \`vssh serve\` to use it`);
    return { id: nodeId, stored: KEY_NAMES.nodeKey };
  }
}
