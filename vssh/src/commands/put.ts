import { Args, Flags } from '@oclif/core';
import { VsshCommand } from '../cli/base.js';
import { transferMain } from '../cli/transfer.js';

export default class Put extends VsshCommand {
  static override summary = 'Copy local files or folders to a node; files already there with the same content do not cross.';
  static override strict = false; // SRC... DEST
  static override description =
    'A folder is copied as a tree into DEST (created if missing), like `rsync -a SRC/ DEST/`; a file lands at DEST, or inside it when DEST ' +
    'is a folder. Each file is written to a temp file, checked against its SHA-256, given its mode and mtime, and renamed into place, ' +
    'so DEST never holds a partial file. An interrupted copy of a big file resumes where it stopped. With several sources, DEST is a ' +
    'folder and each lands in it under its own name (or, written with a trailing /, its contents do). --exclude/--include ' +
    'follow rsync (first matching rule wins; a pattern with a / is anchored to the transfer root; ** spans folders; a trailing / ' +
    'matches folders only). --dry-run lists what would be sent, with sizes, and writes nothing.';
  static override examples = ['<%= config.bin %> put ./app g2:/srv/app', '<%= config.bin %> put ./backup.tar g2:/var/backups/', "<%= config.bin %> put ./bin ./lib ./package.json g2:/srv/app --exclude '*.map' --dry-run"];
  static override args = {
    src: Args.string({ required: true, description: 'local file or folder (several: each lands in DEST under its name)' }),
    dest: Args.string({ required: true, description: 'NODE:/absolute/path' }),
  };
  static override flags = {
    checksum: Flags.boolean({ description: 'compare by SHA-256 even when size and mtime match' }),
    exclude: Flags.string({ multiple: true, description: 'leave out paths matching this pattern (rsync-style; repeat; first matching --exclude/--include wins)' }),
    include: Flags.string({ multiple: true, description: 'keep paths matching this pattern even if a later --exclude matches them' }),
    'dry-run': Flags.boolean({ char: 'n', description: 'say what would be sent and deleted, with sizes; write nothing on the node' }),
  };

  async run(): Promise<void> {
    await this.parse(Put); // checks the flags; the fast path's parser reads them
    // The same parser and output as the fast path in bin/run.js.
    this.exit(await transferMain('put', this.argv));
  }
}
