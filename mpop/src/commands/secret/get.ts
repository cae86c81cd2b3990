import { Args } from '@oclif/core';
import { MpopCommand } from '../../cli/base.js';
import { getSecret } from '../../secret/vault.js';

export default class SecretGet extends MpopCommand {
  static override summary = 'Print a secret\'s value, exactly, on stdout (and nowhere else).';
  static override description =
    'The value goes to stdout only, as its bytes (a newline is added only on a terminal); nothing about it is logged ' +
    '(the vault\'s audit log records the name). --json prints {name, value, encoding}: utf8, or base64 for bytes that are not text.';
  static override examples = ['<%= config.bin %> secret get app/db-password', 'PGPASSWORD="$(<%= config.bin %> secret get app/db-password)" psql ...'];
  static override args = { name: Args.string({ required: true, ignoreStdin: true, description: 'the secret\'s name (as in mpop secret list)' }) };

  async run(): Promise<{ name: string; value: string; encoding: 'utf8' | 'base64' } | undefined> {
    const { args } = await this.parse(SecretGet);
    const bytes = Buffer.from(await getSecret(this.home, args.name));
    if (this.jsonEnabled()) {
      const text = bytes.toString('utf8');
      const utf8 = Buffer.from(text, 'utf8').equals(bytes);
      return { name: args.name, value: utf8 ? text : bytes.toString('base64'), encoding: utf8 ? 'utf8' : 'base64' };
    }
    process.stdout.write(bytes);
    if (process.stdout.isTTY) process.stdout.write('\n');
    bytes.fill(0);
    return undefined;
  }
}
