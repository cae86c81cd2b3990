import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** AuditEntry is one tool call as mcp-audit.jsonl records it: never a secret value. */
export interface AuditEntry {
  time: string;
  client: string;
  tool: string;
  targets: string | null;
  args: unknown;
  decision: 'allowed' | 'confirmed' | 'refused';
  outcome: 'ok' | 'error' | 'refused' | 'job';
  durationMs: number;
  message?: string;
}

const SECRET_KEY = /(pass(word)?|secret|token|key|credential|auth|value|private)/i;
const SECRET_VALUE = /^(?:gh[pousr]_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*)$/;

/** redact copies call arguments with secret-looking values replaced: by key name (password, token, value...) or by shape (tokens, keys, JWTs). */
export function redact(v: unknown, key = ''): unknown {
  // A file's contents are not the audit's to keep (a .env written by vssh_write_file): only their size.
  if (typeof v === 'string' && /^(content|contents|data)$/i.test(key)) return `[${Buffer.byteLength(v)} bytes]`;
  if (typeof v === 'string') return (key && SECRET_KEY.test(key) && !/^(name|names|node|target)$/i.test(key)) || SECRET_VALUE.test(v.trim()) ? '[redacted]' : v.length > 2000 ? v.slice(0, 2000) + '...' : v;
  if (Array.isArray(v)) return v.map((x) => redact(x, key));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
  return v;
}

/** mcpAuditFile is where the MCP server records its calls. */
export const mcpAuditFile = (home: string): string => join(home, 'mpop', 'mcp-audit.jsonl');

/** Audit appends one JSON line per call (O_APPEND, fsync), so a crash loses at most the line being written. */
export class Audit {
  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  }

  record(e: AuditEntry): void {
    const line = JSON.stringify({ ...e, args: redact(e.args) }) + '\n';
    appendFileSync(this.file, line, { mode: 0o600 });
    const fd = openSync(this.file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
