import { Args } from '@oclif/core';
import type { NodeIndexResult } from '../indexer.js';
import { MeshdbCommand } from '../cli/base.js';
import { indexFlags, printResults, runIndex } from './index-files.js';

export default class Reindex extends MeshdbCommand {
  static override summary = 'Re-walk what is indexed (all nodes, or one); a damaged index is moved aside and rebuilt.';
  static override examples = ['<%= config.bin %> reindex', '<%= config.bin %> reindex g2'];
  static override strict = false;
  static override args = { node: Args.string({ required: false, description: 'NODE (default: every indexed node)' }) };
  static override flags = indexFlags;

  async run(): Promise<{ nodes: NodeIndexResult[] }> {
    const { argv, flags } = await this.parse(Reindex);
    const nodes = await runIndex(this, [], flags, (argv as string[]).map((a) => a.replace(/:.*$/, '')));
    const code = printResults(this, nodes);
    if (code) process.exitCode = code;
    return { nodes };
  }
}
