import { Flags } from '@oclif/core';
import { agentRequest, agentStatus } from '../agent/client.js';
import { startAgent } from '../agent/spawn.js';
import { VaultCommand } from '../cli/base.js';
import { LocalVault } from '../store.js';

export default class Rekey extends VaultCommand {
  static override summary = 'Replace the master key: re-encrypt everything, invalidate every old share.';
  static override description =
    'Needs the current password. New shares are made with the last split\'s count and threshold (or --shares/--threshold) ' +
    'and printed once. A key file keeps working only if given with --key-file; otherwise it is dropped. ' +
    'A running unlock agent is restarted with the new key.';
  static override examples = ['<%= config.bin %> rekey', '<%= config.bin %> rekey --shares 7 --threshold 4'];
  static override flags = {
    shares: Flags.integer({ description: 'how many new shares (0: none; default: as the last split)' }),
    threshold: Flags.integer({ description: 'how many shares recover the vault (default: as the last split, else 3)' }),
    'key-file': Flags.string({ description: 'keep this key file working with the new key' }),
  };

  async run(): Promise<{ rekeyed: true; shares: string[]; keyFileDropped: boolean; agentRestarted: boolean }> {
    const { flags } = await this.parse(Rekey);
    const password = await this.currentPassword();
    const vault = await LocalVault.unlock({ password });
    const agent = await agentStatus(this.paths.socket);
    try {
      const shares = flags.shares === undefined ? undefined : flags.shares > 0 ? { count: flags.shares, threshold: flags.threshold ?? 3 } : null;
      const result = await vault.rekey({ password, ...(flags['key-file'] ? { keyFile: flags['key-file'] } : {}), ...(shares !== undefined ? { shares } : {}) });
      if (agent) {
        await agentRequest(this.paths.socket, 'lock');
        await startAgent(vault, agent.idleMs);
      }
      this.log('Master key replaced; every secret was re-encrypted and earlier shares no longer work.');
      if (result.keyFileDropped) this.log('The key file no longer unlocks the vault (pass --key-file to keep it).');
      if (result.shares.length > 0) {
        this.log('\nNew recovery shares, shown only now:');
        for (const s of result.shares) this.log(`  ${s}`);
      }
      return { rekeyed: true, ...result, agentRestarted: Boolean(agent) };
    } finally {
      await vault.close();
    }
  }
}
