import { meshpopHome } from '@meshpop/vault/light';
import { VsshError } from '../errors.js';
import { Pool } from '../client/pool.js';
import type { TransferOptions } from '../client/client.js';
import type { SendStats } from '../transfer/send.js';
import type { ReceiveStats } from '../transfer/receive.js';
import { exitCodeOf, progress, reportError, size, splitRemote } from './format.js';

/** TransferSummary is what put, get and sync print (and return with --json). */
export interface TransferSummary {
  node: string;
  direction: 'put' | 'get';
  target: string;
  files: number;
  unchanged: number;
  deleted: number;
  bytes: number;
  seconds: number;
  failed: { path: string; error: string }[];
}

/** transfer runs put / get / sync between a local path and `node:/path`, in whichever order they are given. */
export async function transfer(from: string, to: string, opts: TransferOptions, direction: 'put' | 'get'): Promise<TransferSummary> {
  const src = splitRemote(from);
  const dst = splitRemote(to);
  if (direction === 'put' && (src || !dst)) throw new VsshError('VSSH_BAD_INPUT', `the destination must be NODE:/absolute/path and the source local (e.g. \`vssh put ./app g2:/srv/app\`); got "${to}"`);
  if (direction === 'get' && (dst || !src)) throw new VsshError('VSSH_BAD_INPUT', `the source must be NODE:/absolute/path and the destination local (e.g. \`vssh get g2:/var/log/syslog ./syslog\`); got "${from}"`);
  const node = (src ?? dst)!.node;
  const pool = new Pool({ home: meshpopHome() });
  const bar = progress(src ? 'received' : 'sent');
  const started = performance.now();
  try {
    const client = await pool.client(node);
    const r: { sent: SendStats; received: ReceiveStats } = src
      ? await client.get(src.path, to, { ...opts, onBytes: bar.add })
      : await client.put(from, dst!.path, { ...opts, onBytes: bar.add });
    const failed = [...r.sent.failed, ...r.received.failed];
    return {
      node,
      direction: src ? 'get' : 'put',
      target: src ? r.received.target : `${node}:${r.received.target}`,
      files: r.received.files,
      unchanged: r.received.unchanged,
      deleted: r.received.deleted,
      bytes: r.received.bytes,
      seconds: (performance.now() - started) / 1000,
      failed,
    };
  } finally {
    bar.done();
    await pool.close();
  }
}

/** describeTransfer is the one-line human summary. */
export function describeTransfer(s: TransferSummary): string {
  const rate = s.seconds > 0 ? `, ${size(s.bytes / s.seconds)}/s` : '';
  const parts = [`${s.files} file${s.files === 1 ? '' : 's'} copied (${size(s.bytes)} in ${s.seconds.toFixed(2)} s${rate})`, `${s.unchanged} unchanged`];
  if (s.deleted) parts.push(`${s.deleted} deleted`);
  if (s.failed.length) parts.push(`${s.failed.length} FAILED`);
  return `${s.target}: ${parts.join(', ')}`;
}

/**
 * transferMain is `vssh put|get|sync SRC DEST [--checksum] [--delete] [--json]`, run without oclif
 * (bin/run.js calls it directly; the oclif commands delegate here too, so one parser reads the line).
 * It prints the summary and returns the exit code.
 */
export async function transferMain(verb: 'put' | 'get' | 'sync', args: string[]): Promise<number> {
  const json = args.includes('--json');
  try {
    const flags = new Set(args.filter((a) => a.startsWith('-')));
    const positional = args.filter((a) => !a.startsWith('-'));
    const known = new Set(['--json', '--checksum', ...(verb === 'sync' ? ['--delete'] : []), ...(verb === 'get' ? ['--keep-setid'] : [])]);
    const unknown = [...flags].filter((f) => !known.has(f));
    if (unknown.length) throw new VsshError('VSSH_BAD_INPUT', `unknown flag ${unknown[0]} (vssh ${verb} takes ${[...known].join(', ')})`);
    if (positional.length !== 2) throw new VsshError('VSSH_BAD_INPUT', `vssh ${verb} takes a source and a destination, e.g. ${verb === 'get' ? 'g2:/var/log/syslog ./syslog' : './site g2:/var/www'}`);
    const s = await transfer(positional[0]!, positional[1]!, { checksum: flags.has('--checksum'), delete: flags.has('--delete'), keepSetid: flags.has('--keep-setid') }, verb === 'get' ? 'get' : 'put');
    if (json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    else {
      process.stdout.write(describeTransfer(s) + '\n');
      for (const f of s.failed) process.stderr.write(`  ${f.path}: ${f.error}\n`);
    }
    return s.failed.length ? 1 : 0;
  } catch (err) {
    const known = err instanceof VsshError || (err as Error)?.name === 'VaultError';
    if (known) reportError(err as VsshError, json);
    else process.stderr.write(`vssh: ${(err as Error)?.stack ?? String(err)}\n`);
    return known ? exitCodeOf(err) : 1;
  }
}
