import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGE_DIR } from './assets.js';

/** APP_DIR holds the MCP App's own files (plain JS and CSS, no build step), beside the web page's. */
export const APP_DIR = fileURLToPath(new URL('../../src/dashboard/app/', import.meta.url));

let cached: string | undefined;

/** inElement makes text safe inside a <script> or <style> element: nothing in it can close the element. */
const inElement = (text: string, tag: 'script' | 'style'): string => text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');

/**
 * globalExports turns an ES module bundle that ends in `export{a as App,b as X,...};` into a script that sets
 * globalThis.McpExtApps = {App: a, X: b, ...}: the host's CSP allows inline scripts only, so the bundle is
 * inlined, and the app's own module reads it from there. A bundle of another shape is an error (its layout
 * changed with a new ext-apps), not a blank app.
 */
export function globalExports(bundle: string, global: string): string {
  const m = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(bundle);
  if (!m || /^\s*import[\s{]/m.test(bundle.slice(0, m.index))) throw new Error(`the ext-apps bundle no longer ends in one export list without imports; mcp-app.ts must learn its new shape`);
  const pairs = m[1]!.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const [local, exported = local] = s.split(/\s+as\s+/);
    if (!/^[\w$]+$/.test(local!) || !/^[\w$]+$/.test(exported!)) throw new Error(`unexpected export "${s}" in the ext-apps bundle`);
    return `${exported}:${local}`;
  });
  return `${bundle.slice(0, m.index)}\nglobalThis.${global}={${pairs.join(',')}};\n`;
}

/**
 * dashboardAppHtml is the one self-contained document of the mpop_dashboard MCP App: uPlot (script and CSS)
 * and the ext-apps App bundle from node_modules, util.js of the web page, and the app itself, all inline, so
 * the document needs no network (a host's default CSP allows none). Built once per process.
 */
export function dashboardAppHtml(): string {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const read = (file: string): string => readFileSync(file, 'utf8');
  const extApps = globalExports(read(require.resolve('@modelcontextprotocol/ext-apps/app-with-deps')), 'McpExtApps');
  const util = read(join(PAGE_DIR, 'util.js')).replace(/^export /gm, '');
  const app = read(join(APP_DIR, 'fleet-app.js')).replace(/^import .*;$/gm, '');
  const script = (body: string, module: boolean): string => `<script${module ? ' type="module"' : ''}>\n${inElement(body, 'script')}\n</script>`;
  cached = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>mpop fleet</title>',
    `<style>\n${inElement(read(require.resolve('uplot/dist/uPlot.min.css')), 'style')}\n${inElement(read(join(APP_DIR, 'app.css')), 'style')}\n</style>`,
    '</head><body>',
    script(read(require.resolve('uplot/dist/uPlot.iife.min.js')), false),
    script(extApps, true),
    script(`${util}\n${app}`, true),
    '</body></html>',
    '',
  ].join('\n');
  return cached;
}
