import { existsSync, unlinkSync } from 'node:fs';
import { agentRequest } from '../agent/client.js';
import { VaultCommand } from '../cli/base.js';
import { isVaultError } from '../errors.js';

export default class Lock extends VaultCommand {
  static override summary = 'Lock the vault: stop the unlock agent and forget the key.';
  static override examples = ['<%= config.bin %> lock'];

  async run(): Promise<{ locked: true; wasUnlocked: boolean; staleSocketRemoved: boolean }> {
    await this.parse(Lock);
    try {
      await agentRequest(this.paths.socket, 'lock');
      this.log('Locked.');
      return { locked: true, wasUnlocked: true, staleSocketRemoved: false };
    } catch (err) {
      if (!isVaultError(err, 'VAULT_LOCKED')) throw err;
    }
    const stale = existsSync(this.paths.socket);
    if (stale) unlinkSync(this.paths.socket);
    this.log(stale ? 'The vault was already locked (a stale agent socket was removed).' : 'The vault was already locked.');
    return { locked: true, wasUnlocked: false, staleSocketRemoved: stale };
  }
}
