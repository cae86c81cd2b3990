import { VaultCommand } from '../cli/base.js';
import { VaultStatus, vaultStatus } from '../status.js';

export default class Status extends VaultCommand {
  static override summary = 'Show where the vault is, whether it is unlocked, and how it can be unlocked.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<VaultStatus> {
    await this.parse(Status);
    const s = await vaultStatus(this.paths.home);
    if (!s.initialized) {
      this.log(`No vault at ${s.store}; \`sv init\` creates one.`);
      return s;
    }
    this.log(`Vault      ${s.store}${s.damaged ? `  DAMAGED: ${s.damaged}` : ''}`);
    if (s.id) {
      this.log(`Id         ${s.id}  (generation ${s.generation}, created ${s.created})`);
      this.log(`Secrets    ${s.secrets}`);
      this.log(`Unlock by  ${s.unlockWith?.join(', ')}${s.kdf ? `  (Argon2id m=${s.kdf.memoryKiB} KiB t=${s.kdf.iterations} p=${s.kdf.parallelism})` : ''}`);
      if (s.shares) this.log(`Shares     ${s.shares.threshold} of ${s.shares.count}, made ${s.shares.created}`);
    }
    this.log(s.agent.running ? `State      unlocked (agent pid ${s.agent.pid}, locks after ${Math.round(s.agent.idleMs / 1000)} s idle)` : `State      locked${s.agent.staleSocket ? ' (a stale agent socket is left; `sv lock` removes it)' : ''}`);
    this.log(`Audit      ${s.audit.entries} entries, ${s.audit.intact ? 'chain intact (checked without the key; `sv verify` checks its MACs)' : `BROKEN: ${s.audit.problem}`}`);
    return s;
  }
}
