import { readFileSync } from 'node:fs';
import { MpopError } from '../errors.js';

/** readSecretFile reads a password or passphrase file's first line, refusing an unreadable or empty one (the value is never logged). */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MpopError('MPOP_USAGE', `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new MpopError('MPOP_USAGE', `the ${what} file ${file} is empty.`);
  return line;
}
