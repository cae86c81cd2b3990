import { hostname } from 'node:os';
import { basename } from 'node:path';
import { VsshError } from '../errors.js';
import { Channel } from '../protocol/conn.js';
import { bool, optInt, optStr, str } from '../protocol/args.js';
import { scanTree } from '../transfer/manifest.js';
import { MAX_REPORTED, capList, readNeeds, sendFiles, sendManifest, underRoot } from '../transfer/send.js';
import { receiveTree } from '../transfer/receive.js';
import { Filter, FilterRule } from '../transfer/filter.js';
import { VERSION } from '../version.js';
import type { Handler, RequestContext } from './daemon.js';
import { execHandler } from './exec.js';
import { listHandler, statHandler } from './files.js';
import { shellHandler } from './pty.js';
import { sysinfo } from './sysinfo.js';
import { tunnelHandler } from './tunnel.js';

/** hello says who answers: the node's name, vssh version, clock and TLS fingerprint (signed, so a client can pin TLS to the node key). */
async function hello(ctx: RequestContext): Promise<Record<string, unknown>> {
  return { name: ctx.node.name, host: hostname(), version: VERSION, time: Date.now(), tlsFingerprint: ctx.node.fingerprint ?? null, policy: ctx.policy.describe() };
}

/** put receives a file or a tree into `dest` (the transfer protocol, with this node as receiver). */
async function put(ctx: RequestContext): Promise<Record<string, unknown>> {
  const dest = str(ctx.args, 'dest');
  const name = optStr(ctx.args, 'name');
  if (name !== undefined && (name.includes('/') || name === '..' || name === '.')) throw new VsshError('VSSH_BAD_INPUT', 'name must be a plain file name');
  await ctx.policy.checkPath(dest, 'write');
  const filter = new Filter((ctx.args.filter ?? []) as FilterRule[]);
  return receiveTree(ctx.stream, { dest, name, delete: bool(ctx.args, 'delete'), checksum: bool(ctx.args, 'checksum'), dryRun: bool(ctx.args, 'dryRun'), filter, policy: ctx.policy });
}

/** get sends a file or a tree (the transfer protocol, with this node as sender). */
async function get(ctx: RequestContext): Promise<Record<string, unknown>> {
  const path = str(ctx.args, 'path');
  const real = await ctx.policy.checkPath(path, 'read');
  const { entries, skipped } = await scanTree(real);
  sendManifest(ctx.stream, entries);
  const needs = await readNeeds(ctx.stream, entries.length);
  const stats = await sendFiles(ctx.stream, entries, underRoot(real, entries), needs, undefined, ctx.policy.rules.allowPaths ? ctx.policy : undefined);
  return { ...stats, failed: capList(stats.failed), name: basename(real), skipped: skipped.slice(0, MAX_REPORTED), skippedCount: skipped.length };
}

/** speed sinks (up) or sources (down) bytes, for `vssh speed`. */
async function speed(ctx: RequestContext): Promise<Record<string, unknown>> {
  const direction = str(ctx.args, 'direction');
  const started = performance.now();
  let bytes = 0;
  if (direction === 'down') {
    const total = optInt(ctx.args, 'bytes', 16 * 1024 ** 3) ?? 0;
    const block = Buffer.alloc(1024 * 1024 - 16);
    while (bytes < total && !ctx.signal.aborted) {
      const n = Math.min(block.length, total - bytes);
      await ctx.stream.write(Channel.OUT, block.subarray(0, n));
      bytes += n;
    }
  } else if (direction === 'up') {
    for (;;) {
      const item = await ctx.stream.read();
      if (!item || item.kind === 'end') break;
      if (item.kind === 'data') bytes += item.bytes.length;
    }
  } else throw new VsshError('VSSH_BAD_INPUT', 'direction must be "up" or "down"');
  return { bytes, ms: performance.now() - started };
}

/** HANDLERS maps each verb to what serves it. */
export const HANDLERS: Record<string, Handler> = {
  hello,
  exec: execHandler,
  shell: shellHandler,
  stat: statHandler,
  list: listHandler,
  sysinfo: async () => ({ ...(await sysinfo()) }),
  put,
  get,
  tunnel: tunnelHandler,
  speed,
};
