import { Args, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { ImportResult, importBundle, importSvVaultFolder } from '../bundle.js';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';

export default class Import extends VaultCommand {
  static override summary = 'Read secrets from an export bundle (sv\'s or sv-vault\'s), or from an sv-vault folder.';
  static override description =
    'FILE is a bundle made by `sv export` or by sv-vault\'s export. --from-sv-vault DIR reads sv-vault\'s vault folder itself ' +
    '(vault.key.enc and vault.data, e.g. ~/.sv-vault) with sv-vault\'s password. Every secret is checked before any is stored: ' +
    'a name or value this vault cannot hold refuses the whole import, saying which. Secrets whose names already exist are skipped ' +
    'unless --overwrite (which stores a new version). Tags and categories that are not labels sv takes are left off, and listed.';
  static override examples = [
    '<%= config.bin %> import backup.svx',
    '<%= config.bin %> import backup.svx --overwrite --password-file ./pw',
    '<%= config.bin %> import --from-sv-vault ~/.sv-vault --password-file ./sv-vault-pw',
  ];
  static override args = { file: Args.string({ description: 'the bundle (not with --from-sv-vault)' }) };
  static override flags = {
    overwrite: Flags.boolean({ description: 'replace secrets that already exist' }),
    'password-file': Flags.string({ description: "read the bundle's (or the sv-vault folder's) password from this file" }),
    'from-sv-vault': Flags.string({ description: "import sv-vault's vault folder DIR instead of a bundle" }),
  };

  async run(): Promise<ImportResult> {
    const { args, flags } = await this.parse(Import);
    const dir = flags['from-sv-vault'];
    if (!dir === !args.file) throw new VaultError('VAULT_BAD_INPUT', 'give a bundle FILE, or --from-sv-vault DIR (one of them).');
    let blob: Buffer | undefined;
    if (args.file) {
      try {
        blob = readFileSync(args.file);
      } catch (err) {
        throw new VaultError('VAULT_BAD_INPUT', `cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? err}).`);
      }
    }
    const password = await this.filePassword(flags['password-file'], false);
    const vault = await this.vault();
    try {
      const result = blob ? await importBundle(vault, blob, { password }, flags.overwrite) : await importSvVaultFolder(vault, dir!, password, flags.overwrite);
      this.log(`Imported ${result.imported.length} secret(s)${result.skipped.length ? `; skipped ${result.skipped.length} that exist (${result.skipped.join(', ')}; --overwrite replaces them)` : ''}.`);
      if (result.relabeled.length) this.log(`Tags or categories sv does not take were left off for: ${result.relabeled.join(', ')}.`);
      return result;
    } finally {
      await vault.close();
    }
  }
}
