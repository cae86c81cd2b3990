import { Flags } from '@oclif/core';
import { inspectAudit, readAudit, AuditRecord, AuditReport } from '../audit.js';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { AuditReset, readHeader, resetAudit } from '../store.js';

export default class Audit extends VaultCommand {
  static override summary = 'Show the audit log (names, never values), or check it.';
  static override description =
    'Every read and write of the vault is recorded in $MESHPOP_HOME/vault/audit.jsonl, each line chained to the one before by SHA-256 ' +
    'and MACed with a key from the master key; the store and audit.head say how far the log must reach. --verify checks all of it ' +
    '(the MACs need the vault open: the agent, SV_PASSWORD_FILE or the password) and fails (exit 6) at the first broken line. ' +
    'Once a broken log or a rolled-back store has been looked into, --reset (with the password or SV_KEY_FILE, never the agent) ' +
    'accepts the store as it is now: the old log is kept beside it as audit.jsonl.broken-DATE and a new one starts with a line that says why.';
  static override examples = ['<%= config.bin %> audit', '<%= config.bin %> audit --limit 200', '<%= config.bin %> audit --verify', '<%= config.bin %> audit --reset'];
  static override flags = {
    verify: Flags.boolean({ description: 'check the whole log against the store; exit 6 if it is broken, truncated, missing or forged' }),
    limit: Flags.integer({ description: 'show the last N entries', default: 50 }),
    reset: Flags.boolean({ description: 'after a broken log or a rollback was looked into: keep the old log aside and start a new one (needs the password or SV_KEY_FILE)', exclusive: ['verify'] }),
  };

  async run(): Promise<{ report: AuditReport } | { entries: AuditRecord[] } | { reset: AuditReset }> {
    const { flags } = await this.parse(Audit);
    if (flags.reset) {
      // A key the caller holds now, never the agent: the agent was unlocked before the damage was found.
      const keyFile = process.env.SV_PASSWORD_FILE ? undefined : process.env.SV_KEY_FILE;
      const reset = await resetAudit(keyFile ? { keyFile } : { password: await this.currentPassword() });
      this.log(`A new audit log was started. The old one was refused: ${reset.problem}`);
      if (reset.keptAs.length) this.log(`It is kept as ${reset.keptAs.join(' and ')}.`);
      return { reset };
    }
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
