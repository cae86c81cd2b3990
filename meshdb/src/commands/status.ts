import { status, type NodeStatus } from '../api.js';
import { MeshdbCommand, size } from '../cli/base.js';

export default class Status extends MeshdbCommand {
  static override summary = 'Per node: files, bytes, skipped files by reason, last index, staleness; and Chroma.';
  static override flags = {};

  async run(): Promise<{ nodes: NodeStatus[]; chroma: unknown }> {
    const r = await status();
    if (!r.nodes.length) this.log('nothing is indexed yet: meshdb index NODE PATH');
    for (const n of r.nodes) {
      if (!n.ok) {
        this.log(`${n.node}: DAMAGED: ${n.error?.message}`);
        continue;
      }
      const when = n.lastIndex ? new Date(n.lastIndex).toISOString().slice(0, 19).replace('T', ' ') : 'never';
      const sk = Object.entries(n.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
      this.log(`${n.node}: ${n.files} files, ${size(n.bytes)}, indexed ${when}${n.stale ? ` STALE (${n.error?.message ?? 'last index failed'})` : ''}`);
      this.log(`  roots: ${n.roots.join(' ') || '-'}; skipped: ${sk}`);
    }
    let chroma: unknown = null;
    try {
      const { chromaState } = await import('../semantic/index.js');
      chroma = await chromaState({});
      this.log(`chroma: ${(chroma as { summary: string }).summary}`);
    } catch (err) {
      chroma = { error: (err as Error).message };
    }
    return { ...r, chroma };
  }
}
