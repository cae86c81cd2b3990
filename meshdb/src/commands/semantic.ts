import { Args, Flags } from '@oclif/core';
import { MeshdbCommand, safe } from '../cli/base.js';

export default class Semantic extends MeshdbCommand {
  static override summary = 'Search by meaning: chunks embedded offline, nearest by cosine distance in Chroma; results are node:path:lines.';
  static override examples = ['<%= config.bin %> semantic "how do we rotate ssh keys"'];
  static override args = { query: Args.string({ required: true }) };
  static override flags = {
    node: Flags.string({ multiple: true, description: 'only this node (repeatable)' }),
    limit: Flags.integer({ default: 10 }),
    'chroma-url': Flags.string({ description: 'a Chroma server instead of the embedded one', env: 'MESHDB_CHROMA_URL' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Semantic);
    const { semantic } = await import('../semantic/index.js');
    const r = await semantic(args.query, { limit: flags.limit, nodes: flags.node, chromaUrl: flags['chroma-url'] });
    for (const h of r.hits) this.log(`${safe(h.ref)}  (${h.distance.toFixed(3)})  ${safe(h.text.split('\n').find((l) => l.trim()) ?? '').slice(0, 120)}`);
    if (!r.hits.length) process.exitCode = 1;
    return r;
  }
}
