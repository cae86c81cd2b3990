import { VaultError, VaultErrorCode } from '../errors.js';

/**
 * What every `sv` command prints on failure, shared by the oclif commands and the fast path of
 * `sv get` (so both look the same). Nothing here loads more than Node itself.
 */

const EXIT: Partial<Record<VaultErrorCode, number>> = {
  VAULT_LOCKED: 3,
  VAULT_NOT_FOUND: 4,
  VAULT_BAD_PASSWORD: 5,
  VAULT_BAD_KEY_FILE: 5,
  VAULT_DECRYPT: 5,
  VAULT_CORRUPT: 6,
  VAULT_TAMPERED: 6,
  VAULT_ROLLBACK: 6,
  VAULT_AUDIT_BROKEN: 6,
  VAULT_NOT_INITIALIZED: 7,
  VAULT_USAGE: 2,
};

/** exitCodeFor maps an error code to `sv`'s exit status (documented in the package README). */
export function exitCodeFor(code: string): number {
  return EXIT[code as VaultErrorCode] ?? 1;
}

/** reportError prints an error as text on stderr, or as `{"error":{code,message}}` on stdout with --json; returns the exit code. */
export function reportError(err: unknown, json: boolean): number {
  const code = err instanceof VaultError ? err.code : 'VAULT_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
  else process.stderr.write(`sv: ${message}\n`);
  return exitCodeFor(code);
}

/** SecretValueJson is `sv get --json`'s output. */
export interface SecretValueJson {
  name: string;
  value: string;
  encoding: 'utf8' | 'base64';
}

/** valueJson renders a value as UTF-8 text when it is valid UTF-8, else as base64. */
export function valueJson(name: string, value: Uint8Array): SecretValueJson {
  const buf = Buffer.from(value);
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? { name, value: text, encoding: 'utf8' } : { name, value: buf.toString('base64'), encoding: 'base64' };
}

/** writeValue prints a value exactly; on a terminal it ends the line. */
export function writeValue(value: Uint8Array): void {
  process.stdout.write(value);
  if (process.stdout.isTTY && value[value.length - 1] !== 0x0a) process.stdout.write('\n');
}
