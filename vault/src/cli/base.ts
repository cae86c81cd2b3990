import { Command, Flags, Interfaces } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { VaultError } from '../errors.js';
import { openVault, readPasswordFile } from '../open.js';
import { meshpopHome, vaultPaths, VaultPaths } from '../paths.js';
import { LocalVault } from '../store.js';
import { KdfParams } from '../crypto/kdf.js';
import { Vault } from '../types.js';
import { reportError } from './output.js';
import { readHidden, readNewPassword } from './prompt.js';

/** kdfFlags raise (or, for tests, lower) the Argon2id parameters of the password. */
export const kdfFlags = {
  'kdf-memory': Flags.integer({ description: 'Argon2id memory in KiB (default 65536 = 64 MiB)', helpGroup: 'KDF' }),
  'kdf-iterations': Flags.integer({ description: 'Argon2id iterations (default 3)', helpGroup: 'KDF' }),
  'kdf-parallelism': Flags.integer({ description: 'Argon2id lanes (default 4)', helpGroup: 'KDF' }),
};

/** kdfFromFlags returns the parameters the flags ask for, over `base`, or undefined when none is set. */
export function kdfFromFlags(flags: { 'kdf-memory'?: number; 'kdf-iterations'?: number; 'kdf-parallelism'?: number }, base: KdfParams): KdfParams | undefined {
  if (flags['kdf-memory'] === undefined && flags['kdf-iterations'] === undefined && flags['kdf-parallelism'] === undefined) return undefined;
  return {
    algorithm: 'argon2id',
    memoryKiB: flags['kdf-memory'] ?? base.memoryKiB,
    iterations: flags['kdf-iterations'] ?? base.iterations,
    parallelism: flags['kdf-parallelism'] ?? base.parallelism,
  };
}

/** MAX_DURATION_MS is the longest duration parseDuration takes: 366 days. */
export const MAX_DURATION_MS = 366 * 86_400_000;

/** parseDuration reads `90`, `30s`, `15m`, `2h` or `30d` as milliseconds, from 1 s to 366 days. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,12})(s|m|h|d)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(ms > 0 && ms <= MAX_DURATION_MS)) {
    throw new VaultError('VAULT_USAGE', `"${text.slice(0, 20)}" is not a duration from 1s to 366d; write e.g. 90s, 15m, 2h or 30d.`);
  }
  return ms;
}

/** ParseFailure is what oclif's parser throws: unexpected arguments carry `args` (strings), unknown flags `flags`. */
type ParseFailure = Error & { parse?: unknown; args?: unknown; flags?: unknown; oclif?: { exit?: number } };

/**
 * usageError turns an oclif parse failure into VAULT_USAGE (exit 2) whose message quotes nothing that
 * was typed except flag names: an extra argument is as likely as not a secret (`sv set app/x MySecret123`).
 */
export function usageError(err: ParseFailure, id: string, argv: string[]): VaultError {
  const help = `\`sv ${id} --help\` shows what it takes`;
  if (Array.isArray(err.args) && err.args.every((a) => typeof a === 'string')) {
    const n = err.args.length;
    const what = `${n} unexpected argument${n === 1 ? '' : 's'} (not shown: ${n === 1 ? 'it' : 'one'} may be a secret)`;
    if (id === 'set') {
      return new VaultError('VAULT_USAGE', `${what}. \`sv set\` never takes a value from an argument, where the shell's history would keep it: pipe it on standard input, use --from-file FILE, or type it at the prompt. Nothing was stored.`);
    }
    return new VaultError('VAULT_USAGE', `${what}; ${help}.`);
  }
  if (Array.isArray(err.flags)) {
    const names = err.flags.map((f) => String(f).split('=')[0]!).map((f) => (/^(--[a-z][a-z0-9-]{0,30}|-[A-Za-z])$/.test(f) ? f : '(not shown)'));
    return new VaultError('VAULT_USAGE', `unknown flag${names.length === 1 ? '' : 's'} ${names.join(', ')}; ${help}.`);
  }
  // Other failures (a missing argument, a flag without its value, a bad number) name the flag; keep that
  // and blank out every word that was typed.
  let message = err.message.replace(/\nSee more help with --help$/, '').replace(/:?\s*\n\s*/g, ': ').replace(/ {2,}/g, ' ').trim();
  const typed = argv.flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(a.indexOf('=') + 1)] : a.startsWith('-') ? [] : [a])).filter((a) => a.length > 0);
  for (const word of typed.sort((a, b) => b.length - a.length)) message = message.split(word).join('…');
  return new VaultError('VAULT_USAGE', `${message}; ${help}.`);
}

/**
 * VaultCommand is the base of every `sv` command: --json, the vault's place, how a password is
 * obtained (SV_PASSWORD_FILE, else a prompt without echo), and errors printed once with a clear exit code.
 */
export abstract class VaultCommand extends Command {
  static override enableJsonFlag = true;

  protected get paths(): VaultPaths {
    return vaultPaths(meshpopHome());
  }

  /** openVault opens the vault through the agent, SV_PASSWORD_FILE or SV_KEY_FILE, else asks for the password. */
  protected async vault(): Promise<Vault> {
    try {
      return await openVault();
    } catch (err) {
      if (!(err instanceof VaultError && err.code === 'VAULT_LOCKED') || !process.stdin.isTTY) throw err;
      const password = await readHidden('Vault password: ', 'the vault is locked');
      return LocalVault.unlock({ password });
    }
  }

  /** currentPassword is the vault's password from SV_PASSWORD_FILE, else asked for. */
  protected async currentPassword(): Promise<string> {
    if (process.env.SV_PASSWORD_FILE) return readPasswordFile(process.env.SV_PASSWORD_FILE);
    return readHidden('Vault password: ', 'the vault password is needed');
  }

  /** newPassword is a new password from SV_NEW_PASSWORD_FILE (or, for init, SV_PASSWORD_FILE), else asked for twice. */
  protected async newPassword(allowCurrentFile = false): Promise<string> {
    const file = process.env.SV_NEW_PASSWORD_FILE ?? (allowCurrentFile ? process.env.SV_PASSWORD_FILE : undefined);
    if (file) {
      const pw = readPasswordFile(file);
      if (!pw) throw new VaultError('VAULT_BAD_INPUT', `the password file ${file} is empty.`);
      return pw;
    }
    return readNewPassword();
  }

  /** filePassword is a password for a blob: --password-file, else asked for (twice when `confirm`). */
  protected async filePassword(file: string | undefined, confirm: boolean): Promise<string> {
    if (file) return readPasswordFile(file);
    // A blob's password is its own, never the vault's: SV_PASSWORD_FILE is not read here, so do not suggest it.
    if (!process.stdin.isTTY) {
      throw new VaultError('VAULT_BAD_INPUT', "a password for the file is needed and there is no terminal to ask on: pass --password-file FILE (the file's own password, not the vault's).");
    }
    return confirm ? readNewPassword('Password for the file') : readHidden('Password for the file: ', 'a password is needed');
  }

  /** readRawKey reads a 32-byte key given as 32 raw bytes or 64 hex digits. */
  protected readRawKey(file: string): Uint8Array {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new VaultError('VAULT_BAD_INPUT', `cannot read the key file ${file} (${(err as NodeJS.ErrnoException).code ?? err}).`);
    }
    const hex = bytes.toString('utf8').trim();
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return new Uint8Array(Buffer.from(hex, 'hex'));
    if (bytes.length === 32) return new Uint8Array(bytes);
    throw new VaultError('VAULT_BAD_INPUT', `the key file ${file} must hold 32 raw bytes or 64 hex digits.`);
  }

  /** readStdin reads all of standard input. */
  protected async readStdin(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    // oclif's parse failures (exit 2) quote what was typed: say what was wrong without it.
    if (!(err instanceof VaultError) && ((err as ParseFailure).parse !== undefined || (err as ParseFailure).oclif?.exit === 2)) err = usageError(err as ParseFailure, this.id ?? 'COMMAND', this.argv);
    if (err instanceof VaultError) {
      process.exitCode = reportError(err, this.jsonEnabled());
      return this.exit(process.exitCode);
    }
    return super.catch(err);
  }
}
