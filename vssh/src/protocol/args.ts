import { VsshError } from '../errors.js';

/**
 * Readers for a request's arguments: each returns the typed value or throws VSSH_BAD_INPUT naming the
 * argument, so a handler never works on a value of the wrong shape.
 */
export type Args = Record<string, unknown>;

const bad = (name: string, want: string): VsshError => new VsshError('VSSH_BAD_INPUT', `argument "${name}" must be ${want}`);

/** str returns a required string argument (no NUL bytes). */
export function str(args: Args, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) throw bad(name, 'a non-empty string');
  return v;
}

/** optStr returns a string argument or undefined. */
export function optStr(args: Args, name: string): string | undefined {
  return args[name] === undefined || args[name] === null ? undefined : str(args, name);
}

/** optInt returns a non-negative integer argument (at most `max`) or undefined. */
export function optInt(args: Args, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw bad(name, `an integer from 0 to ${max}`);
  return v;
}

/** bool returns a boolean argument, false when absent. */
export function bool(args: Args, name: string): boolean {
  const v = args[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw bad(name, 'true or false');
  return v;
}

/** optStrings returns a list of strings (no NUL bytes) or undefined. */
export function optStrings(args: Args, name: string, max = 4096): string[] | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > max || !v.every((s) => typeof s === 'string' && !s.includes('\0'))) throw bad(name, `a list of at most ${max} strings`);
  return v as string[];
}

/** optEnv returns a name -> value map of environment variables or undefined. */
export function optEnv(args: Args, name: string): Record<string, string> | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(name, 'an object of NAME: value strings');
  for (const [k, val] of Object.entries(v)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof val !== 'string' || val.includes('\0')) throw bad(name, 'an object of NAME: value strings (names: letters, digits, _)');
  }
  return v as Record<string, string>;
}
