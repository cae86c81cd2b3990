import { Args, Flags } from '@oclif/core';
import { index, parseTargets } from '../api.js';
import type { NodeIndexResult } from '../indexer.js';
import { MeshdbCommand, EXIT, size } from '../cli/base.js';
import { progressPrinter } from '../cli/progress.js';
import { MeshdbError } from '../errors.js';

/** indexFlags are shared by index and reindex. */
export const indexFlags = {
  'node-modules': Flags.boolean({ description: 'index node_modules folders too' }),
  'max-bytes': Flags.integer({ description: 'skip files larger than this (default 1000000)' }),
  semantic: Flags.boolean({ description: 'also embed chunks into Chroma for semantic search' }),
  'chroma-url': Flags.string({ description: 'a Chroma server to use instead of the embedded one', env: 'MESHDB_CHROMA_URL' }),
};

/** printResults prints one line per node and returns the exit code (1 when some node failed). */
export function printResults(cmd: MeshdbCommand, results: NodeIndexResult[]): number {
  for (const r of results) {
    const sk = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
    if (r.ok) cmd.log(`${r.node}: ${r.listed} files listed, ${r.added} added, ${r.changed} changed, ${r.unchanged} unchanged, ${r.deleted} deleted, ${size(r.bytesRead)} read in ${(r.ms / 1000).toFixed(1)} s${sk ? `; skipped: ${sk}` : ''}`);
    else cmd.logToStderr(`${r.node}: ${r.stale ? 'stale, old entries kept: ' : 'failed: '}${r.error?.message}`);
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.partial;
}

export default class Index extends MeshdbCommand {
  static override summary = 'Index files on nodes through vssh (incrementally: only new and changed files are read).';
  static override examples = ['<%= config.bin %> index all ~/code /etc/nginx', '<%= config.bin %> index g2:/srv/app', '<%= config.bin %> index g2 /srv/app --semantic'];
  static override strict = false;
  static override args = { target: Args.string({ required: true, description: 'all, NODE or NODE:/path, then paths' }) };
  static override flags = indexFlags;

  async run(): Promise<{ nodes: NodeIndexResult[] }> {
    const { argv, flags } = await this.parse(Index);
    const targets = await parseTargets(argv as string[]);
    if (targets.some((t) => t.paths.length === 0)) throw new MeshdbError('MESHDB_BAD_INPUT', 'give the paths to index (meshdb index g2 /srv/app); `meshdb reindex` re-walks what is indexed');
    const nodes = await runIndex(this, targets, flags);
    const code = printResults(this, nodes);
    if (code) process.exitCode = code;
    return { nodes };
  }
}

/** runIndex indexes with a progress display, and the semantic index when asked. */
export async function runIndex(cmd: MeshdbCommand, targets: Array<{ node: string; paths: string[] }>, flags: { 'node-modules'?: boolean; 'max-bytes'?: number; semantic?: boolean; 'chroma-url'?: string }, reindexNodes?: string[]): Promise<NodeIndexResult[]> {
  const p = progressPrinter();
  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  process.once('SIGINT', onSig);
  try {
    const req = { includeNodeModules: flags['node-modules'] || undefined, maxBytes: flags['max-bytes'], onProgress: p.update };
    if (flags.semantic) {
      const { openSemantic } = await import('../semantic/index.js');
      const sem = await openSemantic({ chromaUrl: flags['chroma-url'] });
      try {
        const hooks = sem.hooks();
        const r = reindexNodes ? await (await import('../api.js')).reindex(reindexNodes, { ...req, ...hooks }, { signal: ac.signal }) : await index(targets, { ...req, ...hooks }, { signal: ac.signal });
        await sem.flush();
        return r;
      } finally {
        await sem.close();
      }
    }
    return reindexNodes ? await (await import('../api.js')).reindex(reindexNodes, req, { signal: ac.signal }) : await index(targets, req, { signal: ac.signal });
  } finally {
    process.off('SIGINT', onSig);
    p.done();
  }
}
