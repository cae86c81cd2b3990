import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** TREE is the shape of the benchmark tree: 100 folders of 100 files of 1–8 KiB, the same bytes and mtimes every run. */
export const TREE = { folders: 100, files: 100, minSize: 1024, maxSize: 8192, mtime: new Date('2026-01-01T00:00:00Z') };

/** makeTree writes the tree under `root` (xorshift bytes seeded by each file's number) and returns its file count and bytes. */
export function makeTree(root) {
  const { folders, files, minSize, maxSize, mtime } = TREE;
  let bytes = 0;
  for (let d = 0; d < folders; d++) {
    const folder = join(root, `d${String(d).padStart(3, '0')}`);
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < files; f++) {
      const n = d * files + f;
      let x = (n + 1) * 2654435761 >>> 0 || 1;
      const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>>= 0));
      const size = minSize + (next() % (maxSize - minSize + 1));
      const buf = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i += 4) {
        const v = next();
        for (let k = 0; k < 4 && i + k < size; k++) buf[i + k] = (v >>> (8 * k)) & 0xff;
      }
      const file = join(folder, `f${String(f).padStart(3, '0')}.bin`);
      writeFileSync(file, buf);
      utimesSync(file, mtime, mtime);
      bytes += size;
    }
    utimesSync(folder, mtime, mtime);
  }
  utimesSync(root, mtime, mtime);
  return { files: folders * files, bytes };
}

/** measureTree counts the files under `root` (following it if it is a symlink) and their bytes. */
export function measureTree(root) {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(join(e.parentPath ?? e.path, e.name)).size;
  }
  return { files, bytes };
}
