import { VaultError } from '../errors.js';

/**
 * readHidden asks a question on the terminal and reads an answer without echoing it.
 * It throws VAULT_LOCKED when there is no terminal to ask on.
 */
export async function readHidden(question: string, whyNeeded: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    throw new VaultError('VAULT_LOCKED', `${whyNeeded}, and there is no terminal to ask on: run \`sv unlock\` first, or set SV_PASSWORD_FILE.`);
  }
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = '';
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            input.off('data', onData);
            process.stderr.write('\n');
            resolve(answer);
            return;
          }
          if (ch === '\u0003') {
            input.off('data', onData);
            process.stderr.write('\n');
            reject(new VaultError('VAULT_BAD_INPUT', 'cancelled.'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
          else if (ch === '\u0015') answer = '';
          else answer += ch;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
  }
}

/** readNewPassword asks for a new password twice and insists they match and are not empty. */
export async function readNewPassword(what = 'New vault password'): Promise<string> {
  const a = await readHidden(`${what}: `, `${what.toLowerCase()} is needed`);
  if (!a) throw new VaultError('VAULT_BAD_INPUT', 'the password is empty; nothing was changed.');
  const b = await readHidden(`${what} (again): `, `${what.toLowerCase()} is needed`);
  if (a !== b) throw new VaultError('VAULT_BAD_INPUT', 'the two passwords differ; nothing was changed.');
  return a;
}
