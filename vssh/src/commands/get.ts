import { Args, Flags } from '@oclif/core';
import { VsshCommand } from '../cli/base.js';
import { describeTransfer, transfer, TransferSummary } from '../cli/transfer.js';

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
  static override flags = { checksum: Flags.boolean({ description: 'compare by SHA-256 even when size and mtime match' }) };

  async run(): Promise<TransferSummary> {
    const { args, flags } = await this.parse(Get);
    const s = await transfer(args.src, args.dest, { checksum: flags.checksum }, 'get');
    this.log(describeTransfer(s));
    for (const f of s.failed) this.logToStderr(`  ${f.path}: ${f.error}`);
    if (s.failed.length) process.exitCode = 1;
    return s;
  }
}
