import { createRequire } from 'node:module';
import type { Ignore } from 'ignore';
import { posix } from 'node:path';

const ignore = createRequire(import.meta.url)('ignore') as () => Ignore;

/** GitIgnores applies the .gitignore files found in a tree, each to the paths under its own folder. */
export class GitIgnores {
  readonly #rules = new Map<string, Ignore>();

  /** add takes the text of the .gitignore in folder `dir` (relative to the root, '' for the root). */
  add(dir: string, text: string): void {
    this.#rules.set(dir, ignore().add(text));
  }

  get size(): number {
    return this.#rules.size;
  }

  /** ignored tells whether a path (relative to the root) is ignored by the .gitignore of any folder above it. */
  ignored(rel: string): boolean {
    if (this.#rules.size === 0) return false;
    let dir = posix.dirname(rel);
    for (;;) {
      const d = dir === '.' ? '' : dir;
      const ig = this.#rules.get(d);
      if (ig) {
        const sub = d ? rel.slice(d.length + 1) : rel;
        // a folder rule (`build/`) must match the folders on the way too
        const parts = sub.split('/');
        for (let i = 1; i < parts.length; i++) if (ig.ignores(parts.slice(0, i).join('/') + '/')) return true;
        if (ig.ignores(sub)) return true;
      }
      if (d === '') return false;
      dir = posix.dirname(d);
    }
  }
}
