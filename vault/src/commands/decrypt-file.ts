import { Args, Flags } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { decryptSv01, fileAad } from '../sv01.js';

export default class DecryptFile extends VaultCommand {
  static override summary = 'Decrypt an SV01 blob made by `sv encrypt-file` or sv-vault.';
  static override description =
    'The blob is bound to the original file\'s base name: --name gives it, else it is the blob\'s name without .vault. ' +
    'The output (default: that name, beside the blob) is written whole or not at all, and never over an existing file without --force.';
  static override examples = ['<%= config.bin %> decrypt-file backup.tar.vault', '<%= config.bin %> decrypt-file blob.bin --name backup.tar -o ./backup.tar'];
  static override args = { file: Args.string({ description: 'the blob to decrypt', required: true }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'file to write (default: the original name beside the blob)' }),
    name: Flags.string({ description: 'the original file\'s base name (default: the blob\'s name without .vault)' }),
    'password-file': Flags.string({ description: 'read the password from this file (else asked for)' }),
    'raw-key-file': Flags.string({ description: 'use a raw 32-byte key (32 bytes or 64 hex digits) instead of a password' }),
    force: Flags.boolean({ description: 'overwrite an existing output file' }),
  };

  async run(): Promise<{ input: string; output: string; bytes: number; context: string; createdAt: string }> {
    const { args, flags } = await this.parse(DecryptFile);
    const name = flags.name ?? basename(args.file).replace(/\.vault$/, '');
    if (name === basename(args.file) && !flags.name) {
      throw new VaultError('VAULT_BAD_INPUT', `${args.file} does not end in .vault, so its original name is unknown; pass --name ORIGINAL.`);
    }
    const output = flags.output ?? join(dirname(args.file), name);
    if (existsSync(output) && !flags.force) throw new VaultError('VAULT_BAD_INPUT', `${output} exists; pass --force to overwrite it, or -o to write elsewhere.`);
    let blob: Buffer;
    try {
      blob = readFileSync(args.file);
    } catch (err) {
      throw new VaultError('VAULT_BAD_INPUT', `cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    const key = flags['raw-key-file'] ? { rawKey: this.readRawKey(flags['raw-key-file']) } : { password: await this.filePassword(flags['password-file'], false) };
    const { plaintext, blob: parsed } = await decryptSv01(blob, key, fileAad(name));
    writeFileAtomic(output, plaintext);
    this.log(`Decrypted ${args.file} -> ${output}`);
    return { input: args.file, output, bytes: plaintext.length, context: parsed.context, createdAt: parsed.createdAt };
  }
}
