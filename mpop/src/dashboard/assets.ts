import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Asset is one file the page loads: its bytes and content type. */
export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' };

/** PAGE_DIR holds the page's own files: plain JS modules and CSS, served as they are (no build step). */
export const PAGE_DIR = fileURLToPath(new URL('../../src/dashboard/page/', import.meta.url));

/** PAGE_FILES are the page's files by URL path under /assets/. */
const PAGE_FILES = ['app.js', 'fleet.js', 'node.js', 'mesh.js', 'util.js', 'login.js', 'style.css'];

/**
 * loadAssets reads the page's files and uPlot's dist files (resolved in node_modules at start, never a CDN)
 * into memory once: /assets/NAME and /vendor/NAME, plus the two HTML shells.
 */
export function loadAssets(): { files: Map<string, Asset>; index: string; login: string } {
  const files = new Map<string, Asset>();
  const type = (f: string): string => TYPES[f.slice(f.lastIndexOf('.'))] ?? 'application/octet-stream';
  for (const f of PAGE_FILES) files.set(`/assets/${f}`, { body: readFileSync(join(PAGE_DIR, f)), type: type(f) });
  const require = createRequire(import.meta.url);
  for (const [name, spec] of [['uplot.js', 'uplot/dist/uPlot.iife.min.js'], ['uplot.css', 'uplot/dist/uPlot.min.css']] as const) {
    files.set(`/vendor/${name}`, { body: readFileSync(require.resolve(spec)), type: type(name) });
  }
  return { files, index: readFileSync(join(PAGE_DIR, 'index.html'), 'utf8'), login: readFileSync(join(PAGE_DIR, 'login.html'), 'utf8') };
}
