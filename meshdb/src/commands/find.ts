import { Args, Flags } from '@oclif/core';
import { find, type FindHit } from '../api.js';
import { MeshdbCommand, safe } from '../cli/base.js';

export default class Find extends MeshdbCommand {
  static override summary = 'Find indexed files by name or path: a glob (nginx*.conf, /etc/**/*.conf) or a substring.';
  static override examples = ['<%= config.bin %> find nginx.conf', "<%= config.bin %> find '*.service' --node g2"];
  static override args = { pattern: Args.string({ required: true }) };
  static override flags = {
    node: Flags.string({ description: 'only this node (repeatable)', multiple: true }),
    limit: Flags.integer({ default: 100 }),
  };

  async run(): Promise<{ hits: FindHit[]; failed: Array<{ node: string; message: string }> }> {
    const { args, flags } = await this.parse(Find);
    const r = find(args.pattern, { nodes: flags.node, limit: flags.limit });
    for (const h of r.hits) this.log(safe(h.ref));
    for (const f of r.failed) this.logToStderr(`${f.node}: ${f.message}`);
    if (!r.hits.length) process.exitCode = 1;
    return r;
  }
}
