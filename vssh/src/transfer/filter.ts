import { VsshError } from '../errors.js';

/** FilterRule is one `--exclude` or `--include`, in the order given. */
export interface FilterRule {
  action: 'exclude' | 'include';
  pattern: string;
}

/** Token is one piece of a glob: a literal character, `?`, `*` (within a name), `**` (across folders) or a class. */
type Token = { k: 'lit'; c: string } | { k: 'one' } | { k: 'star' } | { k: 'dstar' } | { k: 'class'; test: (c: string) => boolean };

interface Compiled {
  exclude: boolean;
  dirOnly: boolean;
  /** matched against the whole path (anchored at the transfer root), else against the last name */
  whole: boolean;
  tokens: Token[];
  /** a name pattern that spans folders (`**`) matches the end of the path: it is also tried after any `/` */
  floating: boolean;
}

/** MAX_RULES bounds how many rules one transfer carries (they travel in the request's arguments). */
export const MAX_RULES = 1000;

/** classTest reads the body of `[...]` (`!` or `^` negates, `a-z` ranges); a class never matches `/`. */
function classTest(body: string): (c: string) => boolean {
  const neg = body.startsWith('!') || body.startsWith('^');
  if (neg) body = body.slice(1);
  const ranges: [string, string][] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i + 1] === '-' && i + 2 < body.length) {
      ranges.push([body[i]!, body[i + 2]!]);
      i += 2;
    } else ranges.push([body[i]!, body[i]!]);
  }
  return (c) => c !== '/' && ranges.some(([lo, hi]) => c >= lo && c <= hi) !== neg;
}

/** tokenize splits a glob into tokens; a `[` without its `]` is a literal. */
function tokenize(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      let n = 1;
      while (glob[i + 1] === '*') {
        n++;
        i++;
      }
      out.push({ k: n > 1 ? 'dstar' : 'star' });
    } else if (c === '?') out.push({ k: 'one' });
    else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      out.push({ k: 'class', test: classTest(glob.slice(i + 1, end)) });
      i = end;
    } else out.push({ k: 'lit', c });
  }
  return out;
}

/**
 * globMatch runs the tokens over `s` as a set of states, one step per character: the time grows with the
 * path's length times the pattern's, never exponentially (no backtracking), whatever pattern a peer sends.
 */
function globMatch(tokens: Token[], s: string): boolean {
  const closure = (states: Set<number>): Set<number> => {
    for (const i of states) if (tokens[i]?.k === 'star' || tokens[i]?.k === 'dstar') states.add(i + 1); // a star may match nothing
    return states;
  };
  let states = closure(new Set([0]));
  for (const ch of s) {
    const next = new Set<number>();
    for (const i of states) {
      const t = tokens[i];
      if (!t) continue;
      if (t.k === 'dstar' || (t.k === 'star' && ch !== '/')) next.add(i);
      else if ((t.k === 'lit' && t.c === ch) || (t.k === 'one' && ch !== '/') || (t.k === 'class' && t.test(ch))) next.add(i + 1);
    }
    if (next.size === 0) return false;
    states = closure(next);
  }
  return states.has(tokens.length);
}

const FLOAT: Token[] = [{ k: 'dstar' }, { k: 'lit', c: '/' }];

function compile(rule: FilterRule): Compiled {
  const bad = (why: string): VsshError => new VsshError('VSSH_BAD_INPUT', `--${rule.action} ${JSON.stringify(rule.pattern)}: ${why}`);
  if (rule.action !== 'exclude' && rule.action !== 'include') throw bad('a rule is exclude or include');
  if (typeof rule.pattern !== 'string' || rule.pattern.includes('\0') || rule.pattern.length > 4096) throw bad('not a pattern');
  let p = rule.pattern;
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const anchored = p.includes('/');
  p = p.replace(/^\/+/, '');
  if (p === '') throw bad('the pattern is empty');
  const tokens = tokenize(p);
  const floating = !anchored && tokens.some((t) => t.k === 'dstar');
  return { exclude: rule.action === 'exclude', dirOnly, whole: anchored || floating, tokens, floating };
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
      const subject = r.whole ? path : name;
      if (globMatch(r.tokens, subject) || (r.floating && globMatch([...FLOAT, ...r.tokens], subject))) return r.exclude;
    }
    return false;
  }
}
