import { Flags } from '@oclif/core';
import { VaultCommand, kdfFlags, kdfFromFlags } from '../cli/base.js';
import { DEFAULT_KDF } from '../crypto/kdf.js';
import { readHeader, LocalVault } from '../store.js';

export default class Passwd extends VaultCommand {
  static override summary = 'Change the vault password (and optionally raise the Argon2id parameters).';
  static override description =
    'Asks for the current password (or reads SV_PASSWORD_FILE) and the new one (or SV_NEW_PASSWORD_FILE). ' +
    'The master key stays the same, so secrets, shares and key files keep working. A lost password is reset with `sv recover --reset-password`.';
  static override examples = ['<%= config.bin %> passwd', '<%= config.bin %> passwd --kdf-memory 262144'];
  static override flags = {
    'key-file': Flags.string({ description: "prove who you are with the vault's key file instead of the current password" }),
    ...kdfFlags,
  };

  async run(): Promise<{ changed: true; kdf: { memoryKiB: number; iterations: number; parallelism: number } }> {
    const { flags } = await this.parse(Passwd);
    const vault = flags['key-file'] ? await LocalVault.unlock({ keyFile: flags['key-file'] }) : await LocalVault.unlock({ password: await this.currentPassword() });
    try {
      const slot = readHeader(this.paths).header.slots.find((s) => s.kind === 'password');
      const base = slot && slot.kind === 'password' ? slot.kdf : DEFAULT_KDF;
      const kdf = kdfFromFlags(flags, base) ?? base;
      await vault.changePassword(await this.newPassword(), kdf);
      this.log('Password changed.');
      return { changed: true, kdf: { memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism } };
    } finally {
      await vault.close();
    }
  }
}
