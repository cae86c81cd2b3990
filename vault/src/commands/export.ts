import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { BundleFormat, exportBundle } from '../bundle.js';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';

export default class Export extends VaultCommand {
  static override summary = 'Write secrets into an encrypted bundle (an SV01 blob under its own password).';
  static override description =
    'The bundle\'s password comes from --password-file or is asked for twice. By default the bundle is sv-vault\'s own export ' +
    '(context "vault-export"), which `sv import` and sv-vault both read; its values must be text. --format meshpop keeps any bytes ' +
    'but is read by sv only.';
  static override examples = ['<%= config.bin %> export -o backup.svx', '<%= config.bin %> export --only vssh/master -o key.svx --password-file ./pw'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'bundle file to write (mode 0600)', required: true }),
    only: Flags.string({ description: 'export only these secrets (comma-separated names)' }),
    'password-file': Flags.string({ description: "read the bundle's password from this file" }),
    force: Flags.boolean({ description: 'overwrite an existing output file' }),
    format: Flags.string({ description: 'sv-vault (read by sv and sv-vault; text values) or meshpop (any bytes; read by sv)', options: ['sv-vault', 'meshpop'], default: 'sv-vault' }),
  };

  async run(): Promise<{ file: string; names: string[]; format: string }> {
    const { flags } = await this.parse(Export);
    if (existsSync(flags.output) && !flags.force) throw new VaultError('VAULT_BAD_INPUT', `${flags.output} exists; pass --force to overwrite it.`);
    const vault = await this.vault();
    try {
      const password = await this.filePassword(flags['password-file'], true);
      const only = flags.only?.split(',').map((s) => s.trim()).filter(Boolean);
      const { blob, names } = await exportBundle(vault, { password }, only, flags.format as BundleFormat);
      writeFileAtomic(flags.output, blob);
      this.log(`Exported ${names.length} secret(s) to ${flags.output}.`);
      return { file: flags.output, names, format: flags.format };
    } finally {
      await vault.close();
    }
  }
}
