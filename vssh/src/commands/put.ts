import { Args, Flags } from '@oclif/core';
import { VsshCommand } from '../cli/base.js';
import { transferMain } from '../cli/transfer.js';

export default class Put extends VsshCommand {
  static override summary = 'Copy a local file or folder to a node; files already there with the same content do not cross.';
  static override description =
    'A folder is copied as a tree into DEST (created if missing), like `rsync -a SRC/ DEST/`; a file lands at DEST, or inside it when DEST ' +
    'is a folder. Each file is written to a temp file, checked against its SHA-256, given its mode and mtime, and renamed into place, ' +
    'so DEST never holds a partial file. An interrupted copy of a big file resumes where it stopped.';
  static override examples = ['<%= config.bin %> put ./app g2:/srv/app', '<%= config.bin %> put ./backup.tar g2:/var/backups/'];
  static override args = {
    src: Args.string({ required: true, description: 'local file or folder' }),
    dest: Args.string({ required: true, description: 'NODE:/absolute/path' }),
  };
  static override flags = { checksum: Flags.boolean({ description: 'compare by SHA-256 even when size and mtime match' }) };

  async run(): Promise<void> {
    await this.parse(Put); // checks the flags; the fast path's parser reads them
    // The same parser and output as the fast path in bin/run.js.
    this.exit(await transferMain('put', this.argv));
  }
}
