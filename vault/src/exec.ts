import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { VaultError } from './errors.js';
import { Masker } from './mask.js';
import { envName } from './names.js';
import { Vault } from './types.js';

/**
 * VAULT_ENV are the variables through which a process finds or opens the vault. `sv exec` gives none
 * of them to its command unless asked (`inheritVault`), so `--only` is what the command gets.
 */
export const VAULT_ENV = ['SV_PASSWORD_FILE', 'SV_NEW_PASSWORD_FILE', 'SV_KEY_FILE', 'MESHPOP_HOME'] as const;

/** ExecOptions say which secrets a child gets and what it runs. */
export interface ExecOptions {
  /** secret names to inject; every secret when omitted */
  only?: string[];
  command: string;
  args: string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** let the command open the vault itself: keep SV_PASSWORD_FILE, SV_KEY_FILE and MESHPOP_HOME (default false) */
  inheritVault?: boolean;
  /** the environment the command starts from (default process.env), before VAULT_ENV is taken out */
  env?: NodeJS.ProcessEnv;
  /** told, before the command starts, of each secret that cannot be an environment variable (by name, never value) */
  onSkip?: (skipped: SkippedSecret) => void;
}

/** SkippedSecret is a secret left out of the environment, and why. */
export interface SkippedSecret {
  name: string;
  reason: string;
}

/** ExecResult is how the child ended; `exitCode` is what `sv exec` itself exits with. */
export interface ExecResult {
  exitCode: number;
  signal: NodeJS.Signals | null;
  injected: { name: string; env: string }[];
  skipped: SkippedSecret[];
}

/** SecretEnv is what a child's environment gets from the vault. */
export interface SecretEnv {
  vars: Record<string, string>;
  injected: ExecResult['injected'];
  skipped: SkippedSecret[];
}

/**
 * secretEnv turns secret values into environment variables (`vssh/master` -> `VSSH_MASTER`). A value
 * that an environment variable cannot carry as it is (a NUL byte, bytes that are not UTF-8) is skipped
 * rather than passed changed: a variable holds exactly the value, or is not set. Two names that map to
 * one variable are an error.
 */
export function secretEnv(values: Map<string, Uint8Array>): SecretEnv {
  const vars: Record<string, string> = {};
  const injected: SecretEnv['injected'] = [];
  const skipped: SkippedSecret[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of values) {
    const key = envName(name);
    const clash = seen.get(key);
    if (clash) throw new VaultError('VAULT_BAD_INPUT', `secrets ${clash} and ${name} both map to $${key}; pick one with --only.`);
    seen.set(key, name);
    const bytes = Buffer.from(value);
    const text = bytes.toString('utf8');
    if (bytes.includes(0)) skipped.push({ name, reason: 'its value holds a NUL byte, which an environment variable cannot' });
    else if (!Buffer.from(text, 'utf8').equals(bytes)) skipped.push({ name, reason: 'its value is not UTF-8 text, and an environment variable would change it' });
    else {
      vars[key] = text;
      injected.push({ name, env: key });
    }
  }
  return { vars, injected, skipped };
}

/**
 * execWithSecrets runs a command with secrets in its environment (`vssh/master` as `VSSH_MASTER`),
 * passes its stdin through, and copies its stdout and stderr with every secret value masked (Masker).
 * The command gets none of the variables that open the vault (VAULT_ENV) unless `inheritVault`.
 * The child's exit code is passed back; a child killed by a signal gives 128 + the signal's number.
 */
export async function execWithSecrets(vault: Vault, opts: ExecOptions): Promise<ExecResult> {
  const values = await vault.getMany(opts.only, 'exec');
  const { vars, injected, skipped } = secretEnv(values);
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  if (!opts.inheritVault) for (const k of VAULT_ENV) delete env[k];
  Object.assign(env, vars);
  for (const s of skipped) opts.onSkip?.(s);
  // Every value is masked, also a skipped one: the command may find it some other way.
  const secrets = [...values.values()];
  let child;
  try {
    child = spawn(opts.command, opts.args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
  } catch (err) {
    // Node's message would quote the argument it refused.
    throw new VaultError('VAULT_BAD_INPUT', `cannot run ${opts.command.includes('\0') ? 'the command' : opts.command}: ${(err as NodeJS.ErrnoException).code === 'ERR_INVALID_ARG_VALUE' ? 'an argument holds a NUL byte' : (err as Error).name}.`);
  }
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
    return { exitCode, signal, injected, skipped };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
