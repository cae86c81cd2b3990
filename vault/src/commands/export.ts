import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { exportBundle } from '../bundle.js';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';

export default class Export extends VaultCommand {
  static override summary = 'Write secrets into an encrypted bundle (an SV01 blob under its own password).';
  static override description = 'The bundle\'s password comes from --password-file or is asked for twice. `sv import` reads it back, here or on another machine.';
  static override examples = ['<%= config.bin %> export -o backup.svx', '<%= config.bin %> export --only vssh/master -o key.svx --password-file ./pw'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'bundle file to write (mode 0600)', required: true }),
    only: Flags.string({ description: 'export only these secrets (comma-separated names)' }),
    'password-file': Flags.string({ description: "read the bundle's password from this file" }),
    force: Flags.boolean({ description: 'overwrite an existing output file' }),
  };

  async run(): Promise<{ file: string; names: string[] }> {
    const { flags } = await this.parse(Export);
    if (existsSync(flags.output) && !flags.force) throw new VaultError('VAULT_BAD_INPUT', `${flags.output} exists; pass --force to overwrite it.`);
    const vault = await this.vault();
    try {
      const password = await this.filePassword(flags['password-file'], true);
      const only = flags.only?.split(',').map((s) => s.trim()).filter(Boolean);
      const { blob, names } = await exportBundle(vault, { password }, only);
      writeFileAtomic(flags.output, blob);
      this.log(`Exported ${names.length} secret(s) to ${flags.output}.`);
      return { file: flags.output, names };
    } finally {
      await vault.close();
    }
  }
}
