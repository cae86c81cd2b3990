import { realpathSync } from 'node:fs';
import { lstat, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { VsshError } from '../errors.js';

/** PolicyRules is a node's policy file: every field optional, an absent field restricts nothing. */
export interface PolicyRules {
  /** allowCommands lists argv[0] names; an entry without a slash also matches any absolute path with that basename. */
  allowCommands?: string[];
  /** allowShell lets shell strings (sh -c) run; default true when allowCommands is absent, false when present. */
  allowShell?: boolean;
  /** allowPaths lists absolute path prefixes for file operations, matched on whole segments after resolving symlinks. */
  allowPaths?: string[];
  /** maxFileBytes is the largest file a put may carry. */
  maxFileBytes?: number;
  /** maxTimeoutMs is the exec timeout ceiling, and the timeout of a request that names none. */
  maxTimeoutMs?: number;
  /** readOnly refuses put/sync/delete, and exec of anything not in allowCommands. */
  readOnly?: boolean;
  /** allowTunnels lists `host:port` or `host:*` patterns; [] allows no tunnel. */
  allowTunnels?: string[];
}

/** PolicyRefusal is the VsshError (code VSSH_POLICY) a rule throws; `rule` names the policy field that refused. */
/** SAFE_ENV are the environment names a request may set where commands are allowlisted (an allowlist: a denylist of PATH, LD_*, NODE_OPTIONS, GCONV_PATH, PYTHON*, PERL5* ... is never complete). */
const SAFE_ENV = /^(LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|COLUMNS|LINES|NO_COLOR)$/;

/** SYSTEM_BIN are the folders where a bare allowCommands entry also matches an absolute path. */
const SYSTEM_BIN = new Set(['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']);

export class PolicyRefusal extends VsshError {
  readonly rule: string;

  constructor(rule: string, message: string) {
    super('VSSH_POLICY' as never, message);
    this.name = 'PolicyRefusal';
    this.rule = rule;
  }
}

const refuse = (rule: keyof PolicyRules, detail: string): PolicyRefusal => new PolicyRefusal(rule, `refused by policy (${rule}): ${detail}`);
const badInput = (message: string, cause?: unknown): VsshError => new VsshError('VSSH_BAD_INPUT', message, { cause });
const listed = (items: string[]): string => (items.length > 0 ? items.join(', ') : 'none');
const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** parseTunnel splits a `host:port` or `host:*` pattern, or returns undefined when it is not one. */
function parseTunnel(pattern: string): { host: string; port: number | '*' } | undefined {
  const i = pattern.lastIndexOf(':');
  const host = unbracket(pattern.slice(0, i));
  const port = pattern.slice(i + 1);
  if (i <= 0 || host === '' || host.includes('*')) return undefined;
  if (port === '*') return { host, port };
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535 ? { host, port: Number(port) } : undefined;
}

const strings = (ok: (s: string) => boolean) => (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string' && ok(s));
const boolean = (v: unknown): boolean => typeof v === 'boolean';
const FIELDS: Record<keyof PolicyRules, [expected: string, ok: (v: unknown) => boolean]> = {
  allowCommands: ['an array of command names or absolute paths', strings((s) => s !== '' && (!s.includes('/') || isAbsolute(s)))],
  allowShell: ['true or false', boolean],
  allowPaths: ['an array of absolute paths', strings(isAbsolute)],
  maxFileBytes: ['a whole number of bytes, 0 or more', (v) => Number.isSafeInteger(v) && (v as number) >= 0],
  maxTimeoutMs: ['a whole number of milliseconds, from 1 to 2147483647 (about 24 days)', (v) => Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= 2 ** 31 - 1],
  readOnly: ['true or false', boolean],
  allowTunnels: ['an array of "host:port" or "host:*" patterns', strings((s) => parseTunnel(s) !== undefined)],
};

/** validate returns `raw` as PolicyRules, or throws VSSH_BAD_INPUT naming `source`, the field and what it expects. */
function validate(raw: unknown, source: string): PolicyRules {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badInput(`${source}: expected a JSON object of policy rules`);
  for (const [field, value] of Object.entries(raw)) {
    if (!Object.hasOwn(FIELDS, field)) throw badInput(`${source}: unknown field "${field}"; known fields: ${Object.keys(FIELDS).join(', ')}`);
    const [expected, ok] = FIELDS[field as keyof PolicyRules];
    if (value !== undefined && !ok(value)) throw badInput(`${source}: field "${field}" must be ${expected}, got ${JSON.stringify(value).slice(0, 80)}`);
  }
  return raw as PolicyRules;
}

/**
 * realOrPlanned returns the real path of absolute `path`; for a path that does not exist yet, the real path of
 * its deepest existing ancestor joined with the rest, which may hold no `..`. A dangling symlink is followed.
 */
async function realOrPlanned(path: string, hops = 0): Promise<string> {
  const cannot = (p: string, err: unknown): VsshError => badInput(`cannot resolve ${p}: ${errCode(err) ?? err}`, err);
  if (hops > 40) throw badInput(`cannot resolve ${path}: too many symlinks`);
  try {
    return await realpath(path);
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw cannot(path, err);
  }
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  for (let i = segments.length - 1; i >= 0; i--) {
    const real = await realpath(`/${segments.slice(0, i).join('/')}`).catch((err: unknown) => {
      if (errCode(err) === 'ENOENT') return undefined;
      throw cannot(path, err);
    });
    if (real === undefined) continue;
    const rest = segments.slice(i);
    const first = join(real, rest[0]!);
    const link = await lstat(first).then((s) => s.isSymbolicLink(), (err) => (errCode(err) === 'ENOENT' ? false : Promise.reject(cannot(path, err))));
    if (link) {
      const target = await readlink(first).catch((err: unknown) => Promise.reject(cannot(path, err)));
      return realOrPlanned([isAbsolute(target) ? target : `${real}/${target}`, ...rest.slice(1)].join('/'), hops + 1);
    }
    if (rest.includes('..')) throw badInput(`cannot resolve ${path}: \`..\` after ${first}, which does not exist`);
    return join(real, ...rest);
  }
  throw cannot(path, 'the root does not resolve');
}

/** within reports whether `path` is `prefix` or below it, on whole segments. */
const within = (path: string, prefix: string): boolean => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/** Policy is what a node's daemon allows; each check throws a PolicyRefusal naming the rule, or VSSH_BAD_INPUT. */
export class Policy {
  /** Policy.open restricts nothing. */
  static readonly open: Policy = new Policy();
  readonly rules: Readonly<PolicyRules>;

  /** Policy validates `rules` (VSSH_BAD_INPUT when a field is wrong) and keeps a frozen copy of them. */
  constructor(rules: PolicyRules = {}) {
    const copy = Object.entries(validate(rules, 'policy rules')).map(([k, v]) => [k, Array.isArray(v) ? Object.freeze([...v]) : v]);
    this.rules = Object.freeze(Object.fromEntries(copy) as PolicyRules);
  }

  private get shellAllowed(): boolean { return this.rules.allowShell ?? this.rules.allowCommands === undefined; }

  /** checkExec refuses an exec request of argv (argv[0] checked against allowCommands) or a shell string. */
  checkExec(req: { argv?: string[]; shell?: string; env?: Record<string, string> }): void {
    const { argv, shell } = req;
    const allow = this.rules.allowCommands;
    if (argv !== undefined && shell !== undefined) throw badInput('exec takes argv or a shell string, not both');
    if (shell !== undefined) {
      if (this.rules.readOnly) throw refuse('readOnly', `shell strings are refused on a read-only node; send argv with one of: ${listed(allow ?? [])}`);
      if (!this.shellAllowed) throw refuse('allowShell', `shell strings are refused${allow ? `; send argv with one of: ${listed(allow)}` : ''}`);
      return;
    }
    const cmd = argv?.[0];
    if (typeof cmd !== 'string' || cmd === '') throw badInput('exec needs argv naming a command, or a shell string');
    if (this.rules.readOnly && !allow) throw refuse('readOnly', `\`${cmd}\` is refused: a read-only node runs only commands listed in allowCommands, and there is none`);
    // A bare entry matches the bare name (found through the daemon's PATH) or that name in a system bin
    // folder; not the same name in any folder, which a put could fill. `./df` matches only itself.
    const matches = (entry: string): boolean => entry === cmd || (!entry.includes('/') && SYSTEM_BIN.has(dirname(cmd)) && basename(cmd) === entry);
    if (allow && !allow.some(matches)) throw refuse('allowCommands', `\`${cmd}\` is not an allowed command; allowed: ${listed(allow)}`);
    // With an allowlist, the environment must not change which program a name finds or what it loads.
    const risky = allow ? Object.keys(req.env ?? {}).filter((k) => !SAFE_ENV.test(k)) : [];
    if (risky.length) throw refuse('allowCommands', `setting ${risky.join(', ')} is refused where commands are allowlisted (only LANG, LC_*, TZ, TERM, COLUMNS, LINES and NO_COLOR may be set: others can make a program load or run another)`);
  }

  /** clampTimeout returns the exec timeout to apply: the request's, else maxTimeoutMs; one above maxTimeoutMs is refused. */
  clampTimeout(requestedMs: number | undefined): number | undefined {
    const max = this.rules.maxTimeoutMs;
    if (requestedMs === undefined) return max;
    if (!Number.isFinite(requestedMs) || requestedMs <= 0) throw badInput(`timeout must be a positive number of milliseconds, got ${requestedMs}`);
    if (max !== undefined && requestedMs > max) throw refuse('maxTimeoutMs', `a timeout of ${requestedMs} ms is above the ceiling of ${max} ms`);
    return requestedMs;
  }

  /**
   * checkPath returns the real path of absolute `path` (symlinks resolved, a not-yet-existing tail appended to its
   * deepest existing ancestor), refusing one outside allowPaths or a write on a read-only node.
   */
  async checkPath(path: string, access: 'read' | 'write'): Promise<string> {
    if (typeof path !== 'string' || !isAbsolute(path)) throw badInput(`path must be absolute, got ${JSON.stringify(path)}`);
    if (access === 'write' && this.rules.readOnly) throw refuse('readOnly', `writing ${path} is refused: this node is read-only`);
    const real = await realOrPlanned(path);
    const allow = this.rules.allowPaths;
    if (allow) {
      const prefixes = await Promise.all(allow.map((p) => realOrPlanned(p)));
      const shown = real === path ? path : `${path} (really ${real})`;
      if (!prefixes.some((prefix) => within(real, prefix))) throw refuse('allowPaths', `${shown} is outside the allowed paths; allowed: ${listed(allow)}`);
    }
    return real;
  }

  /**
   * checkLinkTarget refuses a symlink at `link` whose `target` (relative to the link's folder, or absolute)
   * leads outside allowPaths: a put may not plant a way out for later requests, or for programs on the node.
   */
  async checkLinkTarget(link: string, target: string): Promise<void> {
    if (!this.rules.allowPaths) return;
    const to = isAbsolute(target) ? target : join(dirname(link), target);
    try {
      await this.checkPath(to, 'read');
    } catch (err) {
      if (err instanceof PolicyRefusal) throw refuse('allowPaths', `the symlink ${link} would point to ${target}, outside the allowed paths; allowed: ${listed(this.rules.allowPaths)}`);
      throw err;
    }
  }

  /**
   * folderCheck returns a synchronous check that an existing folder really (symlinks resolved, now) lies
   * inside allowPaths, or undefined when paths are not limited. A writer calls it right before creating and
   * before renaming a file, so a folder swapped for a symlink after checkPath is caught there too.
   */
  async folderCheck(): Promise<((dir: string) => void) | undefined> {
    const allow = this.rules.allowPaths;
    if (!allow) return undefined;
    const prefixes = await Promise.all(allow.map((p) => realOrPlanned(p)));
    return (dir: string) => {
      let real: string;
      try {
        real = realpathSync(dir);
      } catch {
        throw refuse('allowPaths', `${dir} is no longer a folder it can write into`);
      }
      if (!prefixes.some((prefix) => within(real, prefix))) throw refuse('allowPaths', `${dir} (really ${real}) is outside the allowed paths; allowed: ${listed(allow)}`);
    };
  }

  /** checkFileSize refuses a put of more than maxFileBytes. */
  checkFileSize(bytes: number): void {
    const max = this.rules.maxFileBytes;
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw badInput(`file size must be a whole number of bytes, got ${bytes}`);
    if (max !== undefined && bytes > max) throw refuse('maxFileBytes', `a file of ${bytes} bytes is larger than the limit of ${max} bytes`);
  }

  /** checkTunnel refuses a tunnel to `host`:`port` that no allowTunnels pattern matches (on a read-only node, any tunnel unless allowTunnels is given). */
  checkTunnel(host: string, port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw badInput(`tunnel port must be 1-65535, got ${port}`);
    const allow = this.rules.allowTunnels;
    if (!allow && this.rules.readOnly) throw refuse('readOnly', `a tunnel to ${host}:${port} is refused on a read-only node unless allowTunnels lists it`);
    if (!allow) return;
    const h = unbracket(host);
    const ok = allow.some((pattern) => {
      const p = parseTunnel(pattern)!;
      return p.host === h && (p.port === '*' || p.port === port);
    });
    if (!ok) throw refuse('allowTunnels', `a tunnel to ${host}:${port} is not allowed; allowed: ${listed(allow)}`);
  }

  /** describe returns one human line per active rule; none for an open policy. */
  describe(): string[] {
    const r = this.rules;
    const lines: string[] = [];
    if (r.allowCommands) lines.push(`allowCommands: only ${listed(r.allowCommands)} may run`);
    if (r.readOnly) lines.push(`readOnly: no put, sync or delete; ${r.allowCommands ? 'exec only of allowCommands, no shell' : 'no exec'}`);
    else if (r.allowCommands || r.allowShell === false) {
      lines.push(this.shellAllowed ? 'allowShell: shell strings (sh -c) run, and can run any command' : 'allowShell: shell strings (sh -c) refused');
    }
    if (r.allowPaths) lines.push(`allowPaths: file operations only under ${listed(r.allowPaths)}`);
    if (r.maxFileBytes !== undefined) lines.push(`maxFileBytes: files up to ${r.maxFileBytes} bytes`);
    if (r.maxTimeoutMs !== undefined) lines.push(`maxTimeoutMs: exec timeouts up to ${r.maxTimeoutMs} ms, and that when none is asked`);
    if (r.allowTunnels) lines.push(`allowTunnels: ${r.allowTunnels.length > 0 ? `only to ${listed(r.allowTunnels)}` : 'none'}`);
    return lines;
  }
}

/** loadPolicy reads and validates a JSON policy file; VSSH_BAD_INPUT names the file, the field and what it expects. */
export async function loadPolicy(file: string): Promise<Policy> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw badInput(`policy file ${file} cannot be read: ${errCode(err) ?? err}`, err);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw badInput(`policy file ${file} is not valid JSON: ${(err as Error).message}`, err);
  }
  return new Policy(validate(raw, `policy file ${file}`));
}
