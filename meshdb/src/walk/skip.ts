/** SkipReason says why a file was not indexed; `status` counts each. */
export type SkipReason = 'ignored' | 'gitignore' | 'secret-name' | 'secret-content' | 'binary' | 'too-large' | 'vanished' | 'unreadable' | 'not-utf8';

/** IGNORED_DIRS are folders never entered (node_modules only unless asked). */
export const IGNORED_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules', 'dist', 'build', 'out', 'target', '.next', '.nuxt', '__pycache__', '.venv', 'venv', '.cache', 'coverage', '.turbo', '.tox', '.gradle', '.idea']);

/** SECRET_DIRS are folders that hold keys and are never entered, whatever is asked. */
const SECRET_DIRS = new Set(['.ssh', '.gnupg', '.aws', '.kube', '.docker']);

const SECRET_NAME = [
  /^\.env(\..*)?$/i,
  /^\.?envrc$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/,
  /\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk|asc|gpg)$/i,
  /^\.(netrc|pgpass|npmrc|pypirc|git-credentials)$/i,
  /^(credentials|secrets?)(\.(json|ya?ml|toml|txt))?$/i,
  /\.vssh-part$/,
];

/** SkipOptions choose what the walk leaves out. */
export interface SkipOptions {
  /** index node_modules too */
  includeNodeModules?: boolean;
  /** the limit on a file's size in bytes (default 1 MB) */
  maxBytes?: number;
}

/** DEFAULT_MAX_BYTES is the default file size limit. */
export const DEFAULT_MAX_BYTES = 1_000_000;

/**
 * skipByPath decides from a path alone (relative to the root, and absolute) whether a file is left out,
 * before anything is read: ignored folders, key folders, the vault's folder and secret-looking names.
 */
export function skipByPath(rel: string, abs: string, opts: SkipOptions): SkipReason | undefined {
  const segs = rel.split('/');
  const name = segs[segs.length - 1]!;
  const absSegs = abs.split('/');
  for (let i = 0; i < absSegs.length - 1; i++) {
    const s = absSegs[i]!;
    if (SECRET_DIRS.has(s)) return 'secret-name';
    // the vault's own folder: $MESHPOP_HOME/vault (~/.meshpop/vault, /var/lib/meshpop/vault)
    if (s === 'vault' && i > 0 && /^\.?meshpop$/.test(absSegs[i - 1]!)) return 'secret-name';
  }
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i]!;
    if (s === 'node_modules' && opts.includeNodeModules) continue;
    if (IGNORED_DIRS.has(s)) return 'ignored';
  }
  if (SECRET_NAME.some((re) => re.test(name))) return 'secret-name';
  return undefined;
}
