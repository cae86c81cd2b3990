import { Args, Flags } from '@oclif/core';
import { VsshCommand } from '../cli/base.js';
import { transferMain } from '../cli/transfer.js';

export default class Get extends VsshCommand {
  static override summary = 'Copy a file or folder from a node; files already here with the same content do not cross.';
  static override description =
    'A folder is copied as a tree into DEST (created if missing); a file lands at DEST, or inside it when DEST ' +
    'is a folder. Each file is written to a temp file, checked against its SHA-256, given its mode and mtime, and renamed into place, ' +
    'so DEST never holds a partial file. An interrupted copy of a big file resumes where it stopped.';
  static override examples = ['<%= config.bin %> get g2:/var/log/syslog ./syslog', '<%= config.bin %> get g2:/etc ./g2-etc'];
  static override args = {
    src: Args.string({ required: true, description: 'NODE:/absolute/path' }),
    dest: Args.string({ required: true, description: 'local file or folder' }),
  };
  static override flags = {
    checksum: Flags.boolean({ description: 'compare by SHA-256 even when size and mtime match' }),
    'keep-setid': Flags.boolean({ description: 'keep the setuid and setgid bits the node\'s files have (cleared by default)' }),
  };

  async run(): Promise<void> {
    await this.parse(Get); // checks the flags; the fast path's parser reads them
    // The same parser and output as the fast path in bin/run.js.
    this.exit(await transferMain('get', this.argv));
  }
}
