import { VaultError } from './errors.js';

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@+=-]*(\/[A-Za-z0-9_][A-Za-z0-9_.@+=-]*)*$/;

/**
 * checkName throws VAULT_BAD_NAME unless `name` is a secret name: path-like segments of letters,
 * digits and `_ . @ + = -`, separated by `/`, at most 200 characters (`vssh/master`, `db/prod.password`).
 */
export function checkName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || !NAME_RE.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    // The name is not quoted back: what does not look like a name may well be a value typed in the wrong place.
    const length = typeof name === 'string' ? `${name.length} characters` : typeof name;
    throw new VaultError(
      'VAULT_BAD_NAME',
      `that is not a valid secret name (${length}; not shown, in case it is a value): use letters, digits and _ . @ + = - in segments separated by / (e.g. vssh/master), at most 200 characters.`,
    );
  }
  return name;
}

/** defaultCategory is the first segment of a path-like name (`vssh` for `vssh/master`), else `general`. */
export function defaultCategory(name: string): string {
  const i = name.indexOf('/');
  return i > 0 ? name.slice(0, i) : 'general';
}

/** envName is the environment variable `sv exec` uses for a secret: `vssh/master` -> `VSSH_MASTER`. */
export function envName(name: string): string {
  const v = name.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[0-9]/.test(v) ? `_${v}` : v;
}
