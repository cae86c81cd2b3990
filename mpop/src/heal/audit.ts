import { appendJsonLine } from '../jsonl.js';

/** AuditEntry is one fix as the audit log keeps it: never a secret (commands and results only, outputs capped). */
export interface AuditEntry {
  time: string;
  node: string;
  check: string;
  action: string;
  result: 'fixed' | 'still failing' | 'fix failed';
  before: { status: string; diagnosis: string };
  after: { status: string; diagnosis: string } | null;
  detail: string;
  freedBytes?: number;
}

/** appendAudit appends one fix to the audit log, one JSON line (see appendJsonLine: concurrent writers never interleave, a crash loses nothing written). */
export function appendAudit(file: string, entry: AuditEntry): void {
  appendJsonLine(file, entry);
}
