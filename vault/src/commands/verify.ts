import { VaultCommand } from '../cli/base.js';
import { VerifyReport } from '../types.js';

export default class Verify extends VaultCommand {
  static override summary = 'Check the whole vault: checksum, MAC, every secret, and the audit chain.';
  static override examples = ['<%= config.bin %> verify'];

  async run(): Promise<VerifyReport> {
    await this.parse(Verify);
    const vault = await this.vault();
    try {
      const report = await vault.verify();
      this.log(`The vault is intact: ${report.secrets} secrets at generation ${report.generation}; audit chain of ${report.audit.entries} entries verified.`);
      return report;
    } finally {
      await vault.close();
    }
  }
}
