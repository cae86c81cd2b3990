import { VsshError } from '../errors.js';

/** FilterRule is one `--exclude` or `--include`, in the order given. */
export interface FilterRule {
  action: 'exclude' | 'include';
  pattern: string;
}

interface Compiled {
  exclude: boolean;
  dirOnly: boolean;
  /** matched against the whole path (anchored at the transfer root), else against the last name */
  whole: boolean;
  re: RegExp;
}

/** MAX_RULES bounds how many rules one transfer carries (they travel in the request's arguments). */
export const MAX_RULES = 1000;

/** globToRegex turns one glob into a regular expression source: `**` any run, `*` any run within a name, `?` one character, `[...]` a class. */
function globToRegex(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return re;
}

function compile(rule: FilterRule): Compiled {
  const bad = (why: string): VsshError => new VsshError('VSSH_BAD_INPUT', `--${rule.action} ${JSON.stringify(rule.pattern)}: ${why}`);
  if (rule.action !== 'exclude' && rule.action !== 'include') throw bad('a rule is exclude or include');
  if (typeof rule.pattern !== 'string' || rule.pattern.includes('\0') || rule.pattern.length > 4096) throw bad('not a pattern');
  let p = rule.pattern;
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const whole = p.includes('/');
  p = p.replace(/^\/+/, '');
  if (p === '') throw bad('the pattern is empty');
  const src = globToRegex(p);
  // A name pattern that spans folders (`**`) is matched against the end of the whole path.
  const re = whole ? `^${src}$` : p.includes('**') ? `(^|/)${src}$` : `^${src}$`;
  try {
    return { exclude: rule.action === 'exclude', dirOnly, whole: whole || p.includes('**'), re: new RegExp(re) };
  } catch {
    throw bad('not a valid pattern');
  }
}

/**
 * Filter decides which paths of a transfer are left out, as rsync's --exclude / --include do: rules are
 * tried in order and the first that matches decides; a path no rule matches is included. A pattern with
 * a `/` (other than a trailing one) is matched against the whole path from the transfer root (a leading
 * `/` anchors it there too); one without is matched against the last name, at any depth. `*` matches
 * within a name, `**` across folders, `?` one character, `[...]` a class; a trailing `/` matches folders
 * only. A folder left out is not entered, so nothing under it is sent (or deleted by --delete).
 */
export class Filter {
  readonly rules: readonly FilterRule[];
  readonly #compiled: Compiled[];

  constructor(rules: readonly FilterRule[] = []) {
    if (!Array.isArray(rules)) throw new VsshError('VSSH_BAD_INPUT', 'filter rules must be a list of {action, pattern}');
    if (rules.length > MAX_RULES) throw new VsshError('VSSH_BAD_INPUT', `at most ${MAX_RULES} --exclude / --include rules`);
    this.rules = Object.freeze(rules.map((r) => ({ action: r?.action, pattern: r?.pattern })));
    this.#compiled = this.rules.map(compile);
  }

  get empty(): boolean {
    return this.#compiled.length === 0;
  }

  /** excluded tells whether `path` (relative to the transfer root, posix) is left out. */
  excluded(path: string, isDir: boolean): boolean {
    if (path === '') return false; // the root itself is what was asked for
    const name = path.slice(path.lastIndexOf('/') + 1);
    for (const r of this.#compiled) {
      if (r.dirOnly && !isDir) continue;
      if (r.re.test(r.whole ? path : name)) return r.exclude;
    }
    return false;
  }
}
