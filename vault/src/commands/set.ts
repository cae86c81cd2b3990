import { Args, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { VaultCommand } from '../cli/base.js';
import { readHidden } from '../cli/prompt.js';
import { VaultError } from '../errors.js';
import { checkName } from '../names.js';
import { SecretInfo } from '../types.js';

export default class Set extends VaultCommand {
  static override summary = 'Store a secret (a new version if the name exists).';
  static override description =
    'The value is read from --from-file (bytes as they are), from standard input (one final newline dropped), ' +
    'or asked for without echo on a terminal. It is never taken from an argument, so it stays out of shell history.';
  static override examples = [
    'printf %s "$TOKEN" | <%= config.bin %> set github/token --tag ci',
    '<%= config.bin %> set vssh/master --from-file ./master.key',
    '<%= config.bin %> set db/prod.password --category databases',
  ];
  static override args = { name: Args.string({ description: 'secret name, path-like (vssh/master)', required: true }) };
  static override flags = {
    'from-file': Flags.string({ description: 'read the value from this file, byte for byte' }),
    category: Flags.string({ description: 'category (default: the first segment of the name, else "general")' }),
    tag: Flags.string({ description: 'a tag (repeatable); replaces the tags of an earlier version', multiple: true }),
  };

  async run(): Promise<SecretInfo> {
    const { args, flags } = await this.parse(Set);
    checkName(args.name);
    let value: Uint8Array;
    if (flags['from-file']) {
      try {
        value = readFileSync(flags['from-file']);
      } catch (err) {
        throw new VaultError('VAULT_BAD_INPUT', `cannot read ${flags['from-file']} (${(err as NodeJS.ErrnoException).code ?? err}); nothing was stored.`);
      }
    } else if (!process.stdin.isTTY) {
      const raw = await this.readStdin();
      const n = raw.length;
      value = raw.subarray(0, n >= 2 && raw[n - 2] === 0x0d && raw[n - 1] === 0x0a ? n - 2 : n >= 1 && raw[n - 1] === 0x0a ? n - 1 : n);
    } else {
      value = Buffer.from(await readHidden(`Value for ${args.name}: `, 'a value is needed'), 'utf8');
    }
    const vault = await this.vault();
    try {
      const info = await vault.set(args.name, value, {
        ...(flags.category ? { category: flags.category } : {}),
        ...(flags.tag ? { tags: flags.tag } : {}),
      });
      this.log(`Stored ${info.name} (version ${info.version}).`);
      return info;
    } finally {
      await vault.close();
    }
  }
}
