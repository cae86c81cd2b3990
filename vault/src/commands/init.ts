import { Flags } from '@oclif/core';
import { VaultCommand, kdfFlags, kdfFromFlags } from '../cli/base.js';
import { DEFAULT_KDF } from '../crypto/kdf.js';
import { InitResult, initVault } from '../store.js';

export default class Init extends VaultCommand {
  static override summary = 'Create a new vault, and print its Shamir shares once.';
  static override description =
    'The password comes from SV_PASSWORD_FILE, or is asked for twice. A random master key is made and wrapped ' +
    'under the password (Argon2id); it is split into shares (default 3 of 5) that can recover the vault if the ' +
    'password is lost. The shares are printed once and never stored: keep them apart from each other.';
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --shares 3 --threshold 2', '<%= config.bin %> init --key-file ~/.meshpop/vault.key'];
  static override flags = {
    shares: Flags.integer({ description: 'how many Shamir shares to make (0: none)', default: 5 }),
    threshold: Flags.integer({ description: 'how many shares recover the vault', default: 3 }),
    'key-file': Flags.string({ description: 'also unlock with this key file (made, random and 0600, if it does not exist)' }),
    ...kdfFlags,
  };

  async run(): Promise<InitResult> {
    const { flags } = await this.parse(Init);
    const password = await this.newPassword(true);
    const result = await initVault({
      password,
      kdf: kdfFromFlags(flags, DEFAULT_KDF) ?? DEFAULT_KDF,
      ...(flags['key-file'] ? { keyFile: flags['key-file'] } : {}),
      shares: flags.shares > 0 ? { count: flags.shares, threshold: flags.threshold } : null,
    });
    this.log(`Vault created at ${result.store}`);
    if (result.keyFile) this.log(`Key file ${result.keyFile.created ? 'created' : 'added'}: ${result.keyFile.path}`);
    if (result.shares.length > 0) {
      this.log(`\nRecovery shares (any ${result.threshold} of ${result.shares.length} rebuild the master key). They are shown only now:`);
      for (const s of result.shares) this.log(`  ${s}`);
    }
    return result;
  }
}
