import { Args, Flags } from '@oclif/core';
import { VsshCommand } from '../cli/base.js';
import { transferMain } from '../cli/transfer.js';

export default class Sync extends VsshCommand {
  static override summary = 'Mirror local folders into a folder on a node: only changed files cross; --delete removes extra files.';
  static override strict = false; // SRC... DEST
  static override description =
    'Files whose size and mtime match are skipped without reading them (like rsync); a file of the same size but another mtime is ' +
    'compared by SHA-256 first. --exclude/--include as rsync (what they leave out is not deleted either); --dry-run lists what ' +
    'would be sent and deleted, with sizes, and writes nothing. The basis of `mpop deploy`.';
  static override examples = ['<%= config.bin %> sync ./site g2:/var/www', '<%= config.bin %> sync ./site g2:/var/www --delete', "<%= config.bin %> sync ./site g2:/var/www --delete --exclude '/uploads/' --dry-run"];
  static override args = {
    src: Args.string({ required: true, description: 'local folder' }),
    dest: Args.string({ required: true, description: 'NODE:/absolute/folder' }),
  };
  static override flags = {
    delete: Flags.boolean({ description: 'delete files on the node that the source does not have' }),
    checksum: Flags.boolean({ description: 'compare by SHA-256 even when size and mtime match' }),
    exclude: Flags.string({ multiple: true, description: 'leave out paths matching this pattern (rsync-style; repeat; first matching --exclude/--include wins)' }),
    include: Flags.string({ multiple: true, description: 'keep paths matching this pattern even if a later --exclude matches them' }),
    'dry-run': Flags.boolean({ char: 'n', description: 'say what would be sent and deleted, with sizes; write nothing on the node' }),
  };

  async run(): Promise<void> {
    await this.parse(Sync); // checks the flags; the fast path's parser reads them
    // The same parser and output as the fast path in bin/run.js.
    this.exit(await transferMain('sync', this.argv));
  }
}
