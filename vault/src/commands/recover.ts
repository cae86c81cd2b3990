import { Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { DEFAULT_IDLE_MS, startAgent } from '../agent/spawn.js';
import { VaultCommand, parseDuration } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { LocalVault } from '../store.js';

export default class Recover extends VaultCommand {
  static override summary = 'Open the vault with Shamir shares: unlock it, or set a new password.';
  static override description =
    'Shares are read one per line from standard input, or from --share-file (repeatable). By default the vault is ' +
    'unlocked as by `sv unlock`; with --reset-password a new password is set instead (SV_NEW_PASSWORD_FILE, or asked for).';
  static override examples = ['<%= config.bin %> recover < shares.txt', '<%= config.bin %> recover --reset-password --share-file a --share-file b --share-file c'];
  static override flags = {
    'share-file': Flags.string({ description: 'a file holding one or more shares (repeatable)', multiple: true }),
    'reset-password': Flags.boolean({ description: 'set a new password instead of unlocking' }),
    timeout: Flags.string({ description: 'when unlocking: lock after this long without use', default: '15m' }),
  };

  async run(): Promise<{ recovered: true; action: 'unlocked' | 'password-reset'; pid?: number }> {
    const { flags } = await this.parse(Recover);
    let text = '';
    for (const f of flags['share-file'] ?? []) {
      try {
        text += readFileSync(f, 'utf8') + '\n';
      } catch (err) {
        throw new VaultError('VAULT_BAD_INPUT', `cannot read the share file ${f} (${(err as NodeJS.ErrnoException).code ?? err}).`);
      }
    }
    if (!flags['share-file'] && !process.stdin.isTTY) text = (await this.readStdin()).toString('utf8');
    if (!text.trim()) throw new VaultError('VAULT_NOT_ENOUGH_SHARES', 'no shares given: pipe them one per line on stdin, or pass --share-file.');
    const vault = await LocalVault.unlock({ shares: text.split(/\s+/).filter(Boolean) });
    try {
      if (flags['reset-password']) {
        await vault.changePassword(await this.newPassword());
        this.log('Recovered: the vault has a new password.');
        return { recovered: true, action: 'password-reset' };
      }
      const pid = await startAgent(vault, flags.timeout ? parseDuration(flags.timeout) : DEFAULT_IDLE_MS);
      await vault.note('recover', undefined, `unlocked, agent pid ${pid}`);
      this.log(`Recovered and unlocked (agent pid ${pid}).`);
      return { recovered: true, action: 'unlocked', pid };
    } finally {
      await vault.close();
    }
  }
}
