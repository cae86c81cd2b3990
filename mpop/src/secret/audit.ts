import { appendJsonLine } from '../jsonl.js';

/** SecretAuditEntry is one secret operation as $MESHPOP_HOME/mpop/audit.jsonl keeps it: names and nodes, never values. */
export interface SecretAuditEntry {
  time: string;
  command: 'secret shares distribute' | 'secret shares collect' | 'secret set' | 'secret rm';
  ok: boolean;
  names?: string[];
  nodes?: string[];
  failed?: string[];
  threshold?: number;
  vault?: string;
  keyId?: string;
  action?: string;
  detail?: string;
}

/** auditSecret appends one secret operation, stamped with the time, as one JSON line (appendJsonLine). */
export function auditSecret(file: string, entry: Omit<SecretAuditEntry, 'time'>): void {
  appendJsonLine(file, { time: new Date().toISOString(), ...entry });
}
