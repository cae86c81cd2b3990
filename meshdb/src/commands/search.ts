import { Args, Flags } from '@oclif/core';
import { search } from '../api.js';
import type { SearchHit, SearchResult } from '../fts/query.js';
import { MeshdbCommand, highlight, safe } from '../cli/base.js';

export default class Search extends MeshdbCommand {
  static override summary = 'Search indexed files: words ranked by bm25 (default), a literal (-F), a regex, or hybrid with semantic.';
  static override examples = [
    '<%= config.bin %> search "disk cleanup" --node g2 --type ts',
    "<%= config.bin %> search -F 'ENOSPC'",
    "<%= config.bin %> search --regex 'TODO\\(\\w+\\)'",
    "<%= config.bin %> search --path '/etc/*' nginx",
    '<%= config.bin %> search --hybrid "rotate ssh keys"',
  ];
  static override args = { query: Args.string({ required: true }) };
  static override flags = {
    fixed: Flags.boolean({ char: 'F', description: 'a literal substring (case-sensitive unless -i), through the trigram index', exclusive: ['regex', 'fts', 'hybrid'] }),
    regex: Flags.boolean({ char: 'e', description: 'a JavaScript regex, matched per line', exclusive: ['fts', 'hybrid'] }),
    fts: Flags.boolean({ description: 'the query is in the FTS5 query language (AND, OR, NOT, NEAR, "phrases", prefix*)', exclusive: ['hybrid'] }),
    hybrid: Flags.boolean({ description: 'fuse the word ranking with semantic search (reciprocal rank fusion)' }),
    'ignore-case': Flags.boolean({ char: 'i', description: 'literal and regex: ignore case' }),
    node: Flags.string({ description: 'only this node (repeatable)', multiple: true }),
    type: Flags.string({ description: 'only files with this extension (repeatable)', multiple: true }),
    path: Flags.string({ description: "only paths matching this glob ('/etc/*')" }),
    limit: Flags.integer({ description: 'files to show', default: 20 }),
    'chroma-url': Flags.string({ description: 'hybrid: a Chroma server instead of the embedded one', env: 'MESHDB_CHROMA_URL' }),
  };

  async run(): Promise<SearchResult> {
    const { args, flags } = await this.parse(Search);
    const opts = { nodes: flags.node, types: flags.type, path: flags.path, limit: flags.limit, ignoreCase: flags['ignore-case'] };
    let r: SearchResult;
    if (flags.hybrid) {
      const { hybrid } = await import('../semantic/index.js');
      r = await hybrid(args.query, { ...opts, chromaUrl: flags['chroma-url'] });
    } else r = search(args.query, { ...opts, mode: flags.fixed ? 'literal' : flags.regex ? 'regex' : flags.fts ? 'fts' : 'words' });
    printHits(this, r.hits, this.color);
    for (const n of r.notes) this.logToStderr(`note: ${n}`);
    for (const f of r.failed) this.logToStderr(`${f.node}: ${f.message}`);
    if (!r.hits.length) process.exitCode = 1;
    return r;
  }
}

/** printHits prints node:path:line: text for each matching line. */
export function printHits(cmd: MeshdbCommand, hits: SearchHit[], color: boolean): void {
  for (const h of hits) {
    if (!h.lines.length) cmd.log(`${safe(h.node)}:${safe(h.path)}`);
    for (const l of h.lines) cmd.log(`${safe(h.node)}:${safe(h.path)}:${l.line}: ${highlight(safe(l.text), l.ranges, color)}`);
  }
}
