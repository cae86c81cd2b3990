import { closeSync, constants, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

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

/** auditSecret appends one JSON line (O_APPEND, one write, fsync), so concurrent writers never interleave. */
export function auditSecret(file: string, entry: Omit<SecretAuditEntry, 'time'>): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const line = Buffer.from(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    for (let off = 0; off < line.length; ) off += writeSync(fd, line, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
