/** Node-name helpers: globs, closeness (for "did you mean"), and compressed ranges (web[1-3,7]). */

/** isGlob tells whether a target term is a glob (*, ? or [...]). */
export const isGlob = (s: string): boolean => /[*?[]/.test(s);

/** globRegExp turns a shell-style glob (*, ?, [abc], [a-z], [!x]) into an anchored RegExp. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** distance is the edit distance between a and b, a swap of two neighbours counting as one edit (as typos go). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** closest returns up to `n` candidates nearest to `word` (prefix and substring matches first, then by edit distance). */
export function closest(word: string, candidates: Iterable<string>, n = 3): string[] {
  const w = word.toLowerCase();
  const scored = [...new Set(candidates)].map((c) => {
    const l = c.toLowerCase();
    const bonus = l.startsWith(w) || w.startsWith(l) ? -2 : l.includes(w) || w.includes(l) ? -1 : 0;
    return { c, d: distance(w, l) + bonus };
  });
  const limit = Math.max(2, Math.ceil(w.length / 2));
  return scored
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, n)
    .map((s) => s.c);
}

const natural = new Intl.Collator('en', { numeric: true });

/** naturalCompare orders names so that web2 comes before web10 (one collator: localeCompare with options makes one per call). */
export function naturalCompare(a: string, b: string): number {
  return natural.compare(a, b);
}

/**
 * compressNodes writes a set of names the way clush and dshbak do: `web[1-3,7],db1`. Names sharing a
 * prefix and ending in numbers fold into one range set (zero padding kept when all members share it).
 */
export function compressNodes(names: Iterable<string>): string {
  const groups = new Map<string, { width: number; nums: number[] }[]>();
  const plain: string[] = [];
  for (const name of new Set(names)) {
    const m = /^(.*?)(\d+)$/.exec(name);
    if (!m) {
      plain.push(name);
      continue;
    }
    const [, prefix, digits] = m as unknown as [string, string, string];
    const width = digits.length > 1 && digits.startsWith('0') ? digits.length : 0;
    const list = groups.get(prefix) ?? [];
    let g = list.find((x) => x.width === width);
    if (!g) list.push((g = { width, nums: [] }));
    g.nums.push(Number(digits));
    groups.set(prefix, list);
  }
  const out: { key: string; text: string }[] = plain.map((p) => ({ key: p, text: p }));
  for (const [prefix, list] of groups) {
    for (const { width, nums } of list) {
      nums.sort((a, b) => a - b);
      const pad = (n: number): string => (width ? String(n).padStart(width, '0') : String(n));
      if (nums.length === 1) {
        out.push({ key: prefix + pad(nums[0]!), text: prefix + pad(nums[0]!) });
        continue;
      }
      const parts: string[] = [];
      for (let i = 0; i < nums.length; ) {
        let j = i;
        while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
        parts.push(j === i ? pad(nums[i]!) : `${pad(nums[i]!)}-${pad(nums[j]!)}`);
        i = j + 1;
      }
      out.push({ key: prefix + pad(nums[0]!), text: `${prefix}[${parts.join(',')}]` });
    }
  }
  return out.sort((a, b) => naturalCompare(a.key, b.key)).map((o) => o.text).join(',');
}
