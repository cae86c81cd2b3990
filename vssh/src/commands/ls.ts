import { Args, Flags } from '@oclif/core';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshCommand, size, splitRemote, table } from '../cli/base.js';
import { VsshError } from '../errors.js';
import { Pool } from '../client/pool.js';
import type { FileInfo } from '../server/files.js';

export default class Ls extends VsshCommand {
  static override summary = 'List a folder (or describe a file) on a node: type, mode, size, mtime, and SHA-256 on request.';
  static override examples = ['<%= config.bin %> ls g2:/var/log', '<%= config.bin %> ls g2:/srv/app -R --hash --json'];
  static override args = { target: Args.string({ required: true, description: 'NODE:/absolute/path' }) };
  static override flags = {
    recursive: Flags.boolean({ char: 'R', description: 'list subfolders too' }),
    hash: Flags.boolean({ description: 'include each file\'s SHA-256' }),
    limit: Flags.integer({ description: 'stop after this many entries' }),
  };

  async run(): Promise<{ node: string; path: string; entries: FileInfo[]; truncated: boolean }> {
    const { args, flags } = await this.parse(Ls);
    const t = splitRemote(args.target);
    if (!t) throw new VsshError('VSSH_BAD_INPUT', `"${args.target}" is not NODE:/absolute/path`);
    const pool = new Pool({ home: meshpopHome() });
    try {
      const client = await pool.client(t.node);
      const r = await client.list(t.path, { recursive: flags.recursive, hash: flags.hash, limit: flags.limit });
      const mode = (e: FileInfo): string => `${{ file: '-', dir: 'd', symlink: 'l', other: '?' }[e.type]}${(e.mode & 0o777).toString(8).padStart(3, '0')}`;
      this.log(table(['MODE', 'SIZE', 'MODIFIED', flags.hash ? 'SHA-256' : '', 'PATH'], r.entries.map((e) => [
        mode(e), e.type === 'file' ? size(e.size) : '-', new Date(e.mtimeMs).toISOString().slice(0, 19).replace('T', ' '), e.sha256 ?? '', e.target ? `${e.path} -> ${e.target}` : e.path,
      ])));
      if (r.truncated) this.logToStderr(`(stopped at ${flags.limit} entries)`);
      return { node: t.node, path: t.path, ...r };
    } finally {
      await pool.close();
    }
  }
}
