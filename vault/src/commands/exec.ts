import { Flags } from '@oclif/core';
import { PassThrough } from 'node:stream';
import { VaultCommand } from '../cli/base.js';
import { VaultError } from '../errors.js';
import { ExecResult, execWithSecrets } from '../exec.js';

export default class Exec extends VaultCommand {
  static override summary = 'Run a command with secrets in its environment, their values masked in its output.';
  static override description =
    'Each secret becomes an environment variable named after it (vssh/master -> VSSH_MASTER). The command\'s ' +
    'stdout and stderr are copied with every secret value (3 bytes or longer) replaced by *****, and its exit ' +
    'code is passed through (128 + N when it dies of signal N). With --json, its output is collected instead. ' +
    'The command gets no variable that opens the vault (SV_PASSWORD_FILE, SV_KEY_FILE, MESHPOP_HOME) unless --inherit-vault; ' +
    'a secret whose value an environment variable cannot hold as it is (a NUL byte, not UTF-8) is left out with a warning.';
  static override examples = ['<%= config.bin %> exec -- ./deploy.sh', '<%= config.bin %> exec --only db/prod.password -- psql -h db1'];
  static override strict = false;
  static override flags = {
    only: Flags.string({ description: 'inject only these secrets (comma-separated names)' }),
    'inherit-vault': Flags.boolean({ description: 'let the command open the vault itself: keep SV_PASSWORD_FILE, SV_KEY_FILE and MESHPOP_HOME in its environment' }),
  };

  async run(): Promise<ExecResult & { stdout?: string; stderr?: string }> {
    const { flags, argv } = await this.parse(Exec);
    const [command, ...args] = argv as string[];
    if (!command) throw new VaultError('VAULT_BAD_INPUT', 'no command given: write it after --, e.g. sv exec -- ./deploy.sh');
    const only = flags.only?.split(',').map((s) => s.trim()).filter(Boolean);
    const vault = await this.vault();
    const json = this.jsonEnabled();
    const out = json ? collect() : undefined;
    const err = json ? collect() : undefined;
    try {
      const result = await execWithSecrets(vault, {
        command,
        args,
        ...(only ? { only } : {}),
        inheritVault: flags['inherit-vault'],
        onSkip: (s) => process.stderr.write(`sv: warning: ${s.name} is not in the environment: ${s.reason}.\n`),
        ...(out && err ? { stdout: out.stream, stderr: err.stream } : {}),
      });
      process.exitCode = result.exitCode;
      return json ? { ...result, stdout: out!.text(), stderr: err!.text() } : result;
    } finally {
      await vault.close();
    }
  }
}

function collect(): { stream: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
