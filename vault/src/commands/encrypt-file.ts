import { Args, Flags } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { encryptSv01, fileAad } from '../sv01.js';

export default class EncryptFile extends VaultCommand {
  static override summary = 'Encrypt a file into an SV01 blob (FILE.vault), readable by sv-vault too.';
  static override description =
    'AES-256-GCM under Argon2id(password) (t=3, m=64 MiB, p=4) or a raw 32-byte key; the blob is bound to the ' +
    'file\'s base name, which `sv decrypt-file` must be given back (it defaults to the blob\'s name without .vault).';
  static override examples = ['<%= config.bin %> encrypt-file backup.tar', '<%= config.bin %> encrypt-file db.dump --raw-key-file ./key.hex -o /mnt/usb/db.dump.vault'];
  static override args = { file: Args.string({ description: 'the file to encrypt', required: true }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'blob to write (default FILE.vault)' }),
    'password-file': Flags.string({ description: 'read the password from this file (else asked for twice)' }),
    'raw-key-file': Flags.string({ description: 'use a raw 32-byte key (32 bytes or 64 hex digits) instead of a password' }),
    context: Flags.string({ description: 'the blob\'s context label', default: 'file' }),
    force: Flags.boolean({ description: 'overwrite an existing output file' }),
  };

  async run(): Promise<{ input: string; output: string; bytes: number }> {
    const { args, flags } = await this.parse(EncryptFile);
    const output = flags.output ?? `${args.file}.vault`;
    if (existsSync(output) && !flags.force) throw new VaultError('VAULT_BAD_INPUT', `${output} exists; pass --force to overwrite it.`);
    let data: Buffer;
    try {
      data = readFileSync(args.file);
    } catch (err) {
      throw new VaultError('VAULT_BAD_INPUT', `cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    const key = flags['raw-key-file'] ? { rawKey: this.readRawKey(flags['raw-key-file']) } : { password: await this.filePassword(flags['password-file'], true) };
    const blob = await encryptSv01(data, key, { context: flags.context, aad: fileAad(args.file) });
    writeFileAtomic(output, blob);
    this.log(`Encrypted ${args.file} -> ${output}`);
    return { input: args.file, output, bytes: blob.length };
  }
}
