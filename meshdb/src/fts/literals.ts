/**
 * requiredLiterals returns substrings that every match of `pattern` must contain (as zoekt does, to let
 * trigrams narrow the candidates before the regex confirms), or [] when it cannot tell (then every file
 * is a candidate). Conservative: a top-level alternation, groups, classes and quantified atoms end a run.
 */
export function requiredLiterals(pattern: string): string[] {
  const out: string[] = [];
  let run = '';
  let depth = 0;
  const end = (): void => {
    if (run.length >= 3) out.push(run);
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const next = pattern[i + 1];
    const quantified = (j: number): boolean => ['*', '?', '{'].includes(pattern[j] ?? '');
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0 && quantified(i + 1)) i++;
      }
      continue;
    }
    if (c === '|') return [];
    if (c === '(') {
      end();
      depth = 1;
      continue;
    }
    if (c === '[') {
      end();
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      continue;
    }
    if (c === '\\') {
      if (next !== undefined && /[^A-Za-z0-9]/.test(next)) {
        if (quantified(i + 2)) end();
        else {
          run += next;
          if (pattern[i + 2] === '+') end();
        }
        i++;
      } else {
        end();
        i++;
      }
      continue;
    }
    if ('.^$'.includes(c)) {
      end();
      continue;
    }
    if ('*?{+'.includes(c)) {
      if (c === '{') for (; i < pattern.length && pattern[i] !== '}'; i++);
      end();
      continue;
    }
    if (quantified(i + 1)) {
      end();
      continue;
    }
    run += c;
    if (next === '+') end();
  }
  end();
  return out;
}
