import { Args, Flags } from '@oclif/core';
import { read, type ReadResult } from '../api.js';
import { MeshdbCommand } from '../cli/base.js';
import { MeshdbError } from '../errors.js';

export default class Read extends MeshdbCommand {
  static override summary = 'Print a file from its node (fetched now through vssh), or a range of its lines.';
  static override examples = ['<%= config.bin %> read g2:/etc/nginx/nginx.conf --lines 10-40'];
  static override args = { target: Args.string({ required: true, description: 'NODE:/path (a search result node:path:line works too)' }) };
  static override flags = { lines: Flags.string({ description: 'FROM-TO, FROM- or N' }) };

  async run(): Promise<ReadResult> {
    const { args, flags } = await this.parse(Read);
    const m = /^([^:]+):(\/[^:]*)(?::(\d+)(?:-(\d+))?)?$/.exec(args.target);
    if (!m) throw new MeshdbError('MESHDB_BAD_INPUT', `"${args.target}" is not NODE:/path`);
    let from: number | undefined;
    let to: number | undefined;
    if (flags.lines) {
      const l = /^(\d+)(-(\d*))?$/.exec(flags.lines);
      if (!l) throw new MeshdbError('MESHDB_BAD_INPUT', `--lines ${flags.lines}: give FROM-TO, FROM- or N`);
      from = Number(l[1]);
      to = l[2] ? (l[3] ? Number(l[3]) : undefined) : from;
    } else if (m[3]) {
      from = Number(m[3]);
      to = m[4] ? Number(m[4]) : undefined;
    }
    const r = await read(m[1]!, m[2]!, { from, to });
    if (!this.jsonEnabled()) process.stdout.write(r.text + (r.text ? '\n' : ''));
    return r;
  }
}
