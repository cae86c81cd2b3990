import { Args, Flags } from '@oclif/core';
import { forget } from '../api.js';
import { MeshdbCommand } from '../cli/base.js';

export default class Forget extends MeshdbCommand {
  static override summary = "Forget a node: delete its index (and its chunks in Chroma with --semantic).";
  static override args = { node: Args.string({ required: true }) };
  static override flags = {
    semantic: Flags.boolean({ description: "also delete the node's chunks from Chroma" }),
    'chroma-url': Flags.string({ env: 'MESHDB_CHROMA_URL' }),
  };

  async run(): Promise<{ node: string; forgotten: boolean; chunks?: number }> {
    const { args, flags } = await this.parse(Forget);
    const forgotten = forget(args.node);
    let chunks: number | undefined;
    if (flags.semantic) {
      const { openSemantic } = await import('../semantic/index.js');
      const sem = await openSemantic({ chromaUrl: flags['chroma-url'] });
      try {
        chunks = await sem.forgetNode(args.node);
      } finally {
        await sem.close();
      }
    }
    this.log(forgotten ? `${args.node}: forgotten` : `${args.node}: had no index`);
    return { node: args.node, forgotten, ...(chunks !== undefined ? { chunks } : {}) };
  }
}
