import { Args, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { ImportResult, importBundle } from '../bundle.js';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';

export default class Import extends VaultCommand {
  static override summary = 'Read secrets from an encrypted bundle made by `sv export`.';
  static override description = 'Secrets whose names already exist are skipped unless --overwrite (which stores a new version).';
  static override examples = ['<%= config.bin %> import backup.svx', '<%= config.bin %> import backup.svx --overwrite --password-file ./pw'];
  static override args = { file: Args.string({ description: 'the bundle', required: true }) };
  static override flags = {
    overwrite: Flags.boolean({ description: 'replace secrets that already exist' }),
    'password-file': Flags.string({ description: "read the bundle's password from this file" }),
  };

  async run(): Promise<ImportResult> {
    const { args, flags } = await this.parse(Import);
    let blob: Buffer;
    try {
      blob = readFileSync(args.file);
    } catch (err) {
      throw new VaultError('VAULT_BAD_INPUT', `cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    const password = await this.filePassword(flags['password-file'], false);
    const vault = await this.vault();
    try {
      const result = await importBundle(vault, blob, { password }, flags.overwrite);
      this.log(`Imported ${result.imported.length} secret(s)${result.skipped.length ? `; skipped ${result.skipped.length} that exist (${result.skipped.join(', ')}; --overwrite replaces them)` : ''}.`);
      return result;
    } finally {
      await vault.close();
    }
  }
}
