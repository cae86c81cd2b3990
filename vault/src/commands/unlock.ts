import { Flags } from '@oclif/core';
import { agentStatus } from '../agent/client.js';
import { DEFAULT_IDLE_MS, startAgent } from '../agent/spawn.js';
import { VaultCommand, parseDuration } from '../cli/base.js';
import { readPasswordFile } from '../open.js';
import { LocalVault } from '../store.js';

export default class Unlock extends VaultCommand {
  static override summary = 'Unlock the vault for a while: later commands need no password.';
  static override description =
    'Starts an agent (like ssh-agent) that holds the master key in memory and answers only its owner, on a 0600 ' +
    'Unix socket under $MESHPOP_HOME/vault. It locks itself after --timeout without use, or on `sv lock`.';
  static override examples = ['<%= config.bin %> unlock', '<%= config.bin %> unlock --timeout 1h', 'SV_PASSWORD_FILE=/run/pw <%= config.bin %> unlock'];
  static override flags = {
    timeout: Flags.string({ description: 'lock after this long without use (90s, 15m, 2h)', default: '15m' }),
    'key-file': Flags.string({ description: "unlock with the vault's key file instead of the password" }),
  };

  async run(): Promise<{ unlocked: true; pid: number; idleMs: number; alreadyRunning: boolean }> {
    const { flags } = await this.parse(Unlock);
    const idleMs = flags.timeout ? parseDuration(flags.timeout) : DEFAULT_IDLE_MS;
    const running = await agentStatus(this.paths.socket);
    if (running) {
      this.log(`The vault is already unlocked (agent pid ${running.pid}); \`sv lock\` locks it.`);
      return { unlocked: true, pid: running.pid, idleMs: running.idleMs, alreadyRunning: true };
    }
    const keyFile = flags['key-file'] ?? (process.env.SV_PASSWORD_FILE ? undefined : process.env.SV_KEY_FILE);
    const vault = keyFile
      ? await LocalVault.unlock({ keyFile })
      : await LocalVault.unlock({ password: process.env.SV_PASSWORD_FILE ? readPasswordFile(process.env.SV_PASSWORD_FILE) : await this.currentPassword() });
    const pid = await startAgent(vault, idleMs);
    await vault.note('unlock', undefined, `agent pid ${pid}`);
    await vault.close();
    this.log(`Unlocked; the agent (pid ${pid}) locks the vault after ${flags.timeout} without use.`);
    return { unlocked: true, pid, idleMs, alreadyRunning: false };
  }
}
