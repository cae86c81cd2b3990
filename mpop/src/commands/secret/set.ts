import { Args, Flags } from '@oclif/core';
import { MpopCommand } from '../../cli/base.js';
import { setSecret } from '../../secret/vault.js';
import type { SecretInfo } from '@meshpop/vault';

export default class SecretSet extends MpopCommand {
  static override summary = 'Store a secret in the controller\'s vault, its value read from stdin.';
  static override description =
    'The value comes from stdin when VALUE is - or absent (one final newline dropped), or from --from-file (bytes as they ' +
    'are). A VALUE on the command line works but is visible to every user in ps and lands in shell history: mpop warns. ' +
    'The name is recorded in $MESHPOP_HOME/mpop/audit.jsonl and the vault\'s own audit log; the value never is.';
  static override examples = [
    '<%= config.bin %> secret set app/db-password < password.txt',
    'pass show db | <%= config.bin %> secret set app/db-password -',
    '<%= config.bin %> secret set tls/key --from-file key.pem --category tls',
  ];
  static override args = {
    name: Args.string({ required: true, ignoreStdin: true, description: 'the secret\'s name (letters, digits, / _ . -)' }),
    value: Args.string({ ignoreStdin: true, description: '- (or nothing) to read stdin; a literal value is visible in ps' }),
  };
  static override flags = {
    'from-file': Flags.string({ description: 'read the value from this file, bytes as they are' }),
    category: Flags.string({ description: 'a category label' }),
    tag: Flags.string({ description: 'a tag (repeatable)', multiple: true }),
  };

  async run(): Promise<{ secret: SecretInfo }> {
    const { args, flags } = await this.parse(SecretSet);
    let value: Buffer;
    if (flags['from-file']) {
      if (args.value !== undefined && args.value !== '-') this.usage('give the value either as --from-file or on stdin, not both');
      const { readFile } = await import('node:fs/promises');
      value = await readFile(flags['from-file']).catch((err: NodeJS.ErrnoException) => this.usage(`cannot read --from-file ${flags['from-file']} (${err.code ?? err})`));
    } else if (args.value !== undefined && args.value !== '-') {
      process.stderr.write('mpop: warning: a value on the command line is visible to every user in ps and stays in shell history; pipe it on stdin instead.\n');
      value = Buffer.from(args.value, 'utf8');
    } else {
      if (process.stdin.isTTY) this.usage(`no value on stdin: pipe it in (mpop secret set ${args.name} < file) or use --from-file`);
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      value = Buffer.concat(chunks);
      if (value.at(-1) === 0x0a) value = value.subarray(0, -1); // one final newline, as sv set drops it
    }
    const secret = await setSecret(this.home, args.name, value, { ...(flags.category ? { category: flags.category } : {}), ...(flags.tag ? { tags: flags.tag } : {}) });
    value.fill(0);
    if (!this.jsonEnabled()) this.log(`stored ${secret.name} (version ${secret.version})`);
    return { secret };
  }
}
