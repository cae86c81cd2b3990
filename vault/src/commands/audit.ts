import { Flags } from '@oclif/core';
import { auditBroken, readAudit, verifyAudit, AuditRecord, AuditReport } from '../audit.js';
import { VaultCommand } from '../cli/base.js';

export default class Audit extends VaultCommand {
  static override summary = 'Show the audit log (names, never values), or check its hash chain.';
  static override description = 'Every read and write of the vault is recorded in $MESHPOP_HOME/vault/audit.jsonl, each line chained to the one before by SHA-256. --verify walks the chain and fails at the first broken line.';
  static override examples = ['<%= config.bin %> audit', '<%= config.bin %> audit --limit 200', '<%= config.bin %> audit --verify'];
  static override flags = {
    verify: Flags.boolean({ description: 'check the whole chain; exit 6 if it is broken' }),
    limit: Flags.integer({ description: 'show the last N entries', default: 50 }),
  };

  async run(): Promise<{ report: AuditReport } | { entries: AuditRecord[] }> {
    const { flags } = await this.parse(Audit);
    const file = this.paths.audit;
    if (flags.verify) {
      const report = verifyAudit(file);
      if (!report.ok) throw auditBroken(file, report);
      this.log(`The audit log is intact: ${report.entries} entries, chain verified.`);
      return { report };
    }
    const entries = readAudit(file).slice(-flags.limit);
    for (const e of entries) {
      const names = e.names?.length ? ` ${e.names.join(',')}` : '';
      this.log(`${e.ts}  #${e.seq}  ${e.op}${names}  via ${e.via} pid ${e.pid}${e.ok === false ? '  FAILED' : ''}${e.detail ? `  (${e.detail})` : ''}`);
    }
    return { entries };
  }
}
