import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { VaultError } from './errors.js';
import { Masker } from './mask.js';
import { envName } from './names.js';
import { Vault } from './types.js';

/** ExecOptions say which secrets a child gets and what it runs. */
export interface ExecOptions {
  /** secret names to inject; every secret when omitted */
  only?: string[];
  command: string;
  args: string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** ExecResult is how the child ended; `exitCode` is what `sv exec` itself exits with. */
export interface ExecResult {
  exitCode: number;
  signal: NodeJS.Signals | null;
  injected: { name: string; env: string }[];
}

/**
 * execWithSecrets runs a command with secrets in its environment (`vssh/master` as `VSSH_MASTER`),
 * passes its stdin through, and copies its stdout and stderr with every secret value masked.
 * The child's exit code is passed back; a child killed by a signal gives 128 + the signal's number.
 */
export async function execWithSecrets(vault: Vault, opts: ExecOptions): Promise<ExecResult> {
  const values = await vault.getMany(opts.only, 'exec');
  const env: NodeJS.ProcessEnv = { ...process.env };
  const injected: ExecResult['injected'] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of values) {
    const key = envName(name);
    const clash = seen.get(key);
    if (clash) throw new VaultError('VAULT_BAD_INPUT', `secrets ${clash} and ${name} both map to $${key}; pick one with --only.`);
    seen.set(key, name);
    env[key] = Buffer.from(value).toString('utf8');
    injected.push({ name, env: key });
  }
  const child = spawn(opts.command, opts.args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
  const secrets = [...values.values()];
  child.stdout.pipe(new Masker(secrets)).pipe(opts.stdout ?? process.stdout, { end: false });
  child.stderr.pipe(new Masker(secrets)).pipe(opts.stderr ?? process.stderr, { end: false });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(new VaultError('VAULT_BAD_INPUT', err.code === 'ENOENT' ? `command not found: ${opts.command}` : `cannot run ${opts.command} (${err.code ?? err.message})`, { cause: err })),
      );
      child.once('close', (c, s) => resolve([c, s]));
    });
    const exitCode = code ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0);
    return { exitCode, signal, injected };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
