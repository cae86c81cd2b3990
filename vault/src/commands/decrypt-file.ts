import { Args, Flags } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { decryptSv01, fileAad } from '../sv01.js';

export default class DecryptFile extends VaultCommand {
  static override summary = 'Decrypt an SV01 blob made by `sv encrypt-file` or sv-vault (files, exports, backups, vault data).';
  static override description =
    'A blob made from a file is bound to the file\'s base name: --name gives it, else it is the blob\'s name without .vault. ' +
    'Without --name, a blob bound to no name (sv-vault\'s exports, backups, raw-key blobs) opens too; with --name the binding is required. ' +
    'The output (default: the name without .vault, beside the blob) is written whole or not at all, and never over an existing file without --force.';
  static override examples = [
    '<%= config.bin %> decrypt-file backup.tar.vault',
    '<%= config.bin %> decrypt-file blob.bin --name backup.tar -o ./backup.tar',
    '<%= config.bin %> decrypt-file secrets_20260314_080000.vault --password-file ./pw',
    '<%= config.bin %> decrypt-file ~/.sv-vault/vault.data --raw-key-file ./master.hex -o vault.json',
  ];
  static override args = { file: Args.string({ description: 'the blob to decrypt', required: true }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'file to write (default: the blob\'s name without .vault, beside it)' }),
    name: Flags.string({ description: 'the original file\'s base name, which the blob must be bound to' }),
    'password-file': Flags.string({ description: "read the blob's password from this file (else asked for; never the vault's SV_PASSWORD_FILE)" }),
    'raw-key-file': Flags.string({ description: 'use a raw 32-byte key (32 bytes or 64 hex digits) instead of a password' }),
    force: Flags.boolean({ description: 'overwrite an existing output file' }),
  };

  async run(): Promise<{ input: string; output: string; bytes: number; context: string; createdAt: string; boundTo: string | null }> {
    const { args, flags } = await this.parse(DecryptFile);
    const stripped = basename(args.file).replace(/\.vault$/, '');
    const derived = stripped !== basename(args.file) ? stripped : undefined;
    const output = flags.output ?? (derived ? join(dirname(args.file), derived) : undefined);
    if (!output) throw new VaultError('VAULT_BAD_INPUT', `${args.file} does not end in .vault, so there is no name to write it to; pass -o OUTPUT (and --name ORIGINAL if it was made from a file).`);
    if (existsSync(output) && !flags.force) throw new VaultError('VAULT_BAD_INPUT', `${output} exists; pass --force to overwrite it, or -o to write elsewhere.`);
    let blob: Buffer;
    try {
      blob = readFileSync(args.file);
    } catch (err) {
      throw new VaultError('VAULT_BAD_INPUT', `cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    const key = flags['raw-key-file'] ? { rawKey: this.readRawKey(flags['raw-key-file']) } : { password: await this.filePassword(flags['password-file'], false) };
    // The name binding first (a file's blob), then none (sv-vault's other blobs); --name insists on the binding.
    const names = flags.name ? [flags.name] : derived ? [derived, undefined] : [undefined];
    const { plaintext, blob: parsed, bound } = await decryptSv01(blob, key, names.map((n) => (n === undefined ? undefined : fileAad(n))));
    writeFileAtomic(output, plaintext);
    const boundTo = names[bound] ?? null;
    this.log(`Decrypted ${args.file} -> ${output}${boundTo ? '' : ' (a blob bound to no file name)'}`);
    return { input: args.file, output, bytes: plaintext.length, context: parsed.context, createdAt: parsed.createdAt, boundTo };
  }
}
