import { Flags } from '@oclif/core';
import { inspectAudit, readAudit, AuditRecord, AuditReport } from '../audit.js';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { readHeader } from '../store.js';

export default class Audit extends VaultCommand {
  static override summary = 'Show the audit log (names, never values), or check it.';
  static override description =
    'Every read and write of the vault is recorded in $MESHPOP_HOME/vault/audit.jsonl, each line chained to the one before by SHA-256 ' +
    'and MACed with a key from the master key; the store and audit.head say how far the log must reach. --verify checks all of it ' +
    '(the MACs need the vault open: the agent, SV_PASSWORD_FILE or the password) and fails (exit 6) at the first broken line.';
  static override examples = ['<%= config.bin %> audit', '<%= config.bin %> audit --limit 200', '<%= config.bin %> audit --verify'];
  static override flags = {
    verify: Flags.boolean({ description: 'check the whole log against the store; exit 6 if it is broken, truncated, missing or forged' }),
    limit: Flags.integer({ description: 'show the last N entries', default: 50 }),
  };

  async run(): Promise<{ report: AuditReport } | { entries: AuditRecord[] }> {
    const { flags } = await this.parse(Audit);
    if (flags.verify) {
      // What needs no key first (chain, head, the store's record), so a broken log is named even while locked.
      const { header } = readHeader(this.paths);
      const keyless = inspectAudit(this.paths, { generation: header.generation, ...(header.audit ? { record: header.audit } : {}) });
      if (!keyless.ok) throw new VaultError(keyless.code ?? 'VAULT_AUDIT_BROKEN', keyless.problem ?? 'the audit log is broken.');
      const vault = await this.vault();
      try {
        const entries = (await vault.verify()).audit.entries;
        const report: AuditReport = { ok: true, entries, macs: true };
        this.log(`The audit log is intact: ${entries} entries, chain, head and MACs verified against the store.`);
        return { report };
      } finally {
        await vault.close();
      }
    }
    const entries = readAudit(this.paths).slice(-flags.limit);
    for (const e of entries) {
      const names = e.names?.length ? ` ${e.names.join(',')}` : '';
      const who = `via ${e.via} pid ${e.pid}${e.uid !== undefined ? ` uid ${e.uid}` : ''}`;
      this.log(`${e.ts}  #${e.seq}  ${e.op}${names}  ${who}${e.ok === false ? '  FAILED' : ''}${e.detail ? `  (${e.detail})` : ''}`);
    }
    return { entries };
  }
}
