import { meshpopHome } from '@meshpop/vault/light';
import { VsshError } from '../errors.js';
import { Pool } from '../client/pool.js';
import type { DryRunReport, PutResult, TransferOptions } from '../client/client.js';
import { Filter, FilterRule } from '../transfer/filter.js';
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
  /** put and sync: how many local paths --exclude / --include left out */
  excluded?: number;
  /** with --dry-run: what would be sent and deleted (nothing was written) */
  dryRun?: DryRunReport;
}

/**
 * transfer runs put / get / sync: the last argument is the destination, the others the sources (several
 * only for put and sync). Exactly one side is `node:/path`.
 */
export async function transfer(sources: string[], to: string, opts: TransferOptions, direction: 'put' | 'get'): Promise<TransferSummary> {
  const remoteSources = sources.map(splitRemote);
  const dst = splitRemote(to);
  if (direction === 'put' && (remoteSources.some(Boolean) || !dst)) throw new VsshError('VSSH_BAD_INPUT', `the destination must be NODE:/absolute/path and the sources local (e.g. \`vssh put ./app g2:/srv/app\`); got "${to}"`);
  if (direction === 'get' && (dst || sources.length !== 1 || !remoteSources[0])) throw new VsshError('VSSH_BAD_INPUT', `the source must be one NODE:/absolute/path and the destination local (e.g. \`vssh get g2:/var/log/syslog ./syslog\`); got "${sources.join(' ')}"`);
  const src = remoteSources[0];
  const node = (src ?? dst)!.node;
  const pool = new Pool({ home: meshpopHome() });
  const bar = progress(src ? 'received' : 'sent');
  const started = performance.now();
  try {
    const client = await pool.client(node);
    const r: PutResult = src
      ? { ...(await client.get(src.path, to, { ...opts, onBytes: bar.add })), excluded: 0 }
      : await client.put(sources, dst!.path, { ...opts, onBytes: bar.add });
    const failed = [...r.sent.failed, ...r.received.failed];
    return {
      node,
      direction: src ? 'get' : 'put',
      target: src ? r.received.target : `${node}:${r.received.target}`,
      files: r.dryRun ? r.dryRun.send.length : r.received.files,
      unchanged: r.dryRun ? r.dryRun.unchanged : r.received.unchanged,
      deleted: r.received.deleted,
      bytes: r.dryRun ? r.dryRun.bytes : r.received.bytes,
      seconds: (performance.now() - started) / 1000,
      failed,
      ...(src ? {} : { excluded: r.excluded }),
      ...(r.dryRun ? { dryRun: r.dryRun } : {}),
    };
  } finally {
    bar.done();
    await pool.close();
  }
}

/** describeTransfer is the human summary: one line, and with --dry-run the files first. */
export function describeTransfer(s: TransferSummary): string {
  if (s.dryRun) {
    const lines = [...s.dryRun.send.map((f) => `send    ${f.path} (${size(f.bytes)}${f.bytes !== f.size ? ` of ${size(f.size)}, resumed` : ''})`), ...s.dryRun.delete.map((p) => `delete  ${p}`)];
    if (s.dryRun.deleted > s.dryRun.delete.length) lines.push(`delete  ... and ${s.dryRun.deleted - s.dryRun.delete.length} more`);
    const parts = [`${s.files} file${s.files === 1 ? '' : 's'} would be sent (${size(s.bytes)})`, `${s.unchanged} unchanged`];
    if (s.deleted) parts.push(`${s.deleted} would be deleted`);
    if (s.excluded) parts.push(`${s.excluded} excluded`);
    if (s.failed.length) parts.push(`${s.failed.length} FAILED`);
    return [...lines, `${s.target}: dry run, nothing written: ${parts.join(', ')}`].join('\n');
  }
  const rate = s.seconds > 0 ? `, ${size(s.bytes / s.seconds)}/s` : '';
  const parts = [`${s.files} file${s.files === 1 ? '' : 's'} copied (${size(s.bytes)} in ${s.seconds.toFixed(2)} s${rate})`, `${s.unchanged} unchanged`];
  if (s.deleted) parts.push(`${s.deleted} deleted`);
  if (s.excluded) parts.push(`${s.excluded} excluded`);
  if (s.failed.length) parts.push(`${s.failed.length} FAILED`);
  return `${s.target}: ${parts.join(', ')}`;
}

/** TransferArgs is a parsed put / get / sync command line. */
export interface TransferArgs {
  sources: string[];
  dest: string;
  opts: TransferOptions;
  json: boolean;
}

/**
 * parseTransferArgs reads `vssh put|sync SRC... DEST [--exclude P]... [--include P]... [--dry-run] [--checksum]
 * [--delete (sync)] [--json]` and `vssh get SRC DEST [--checksum] [--keep-setid] [--json]`. Rules keep the
 * order they are given in; `--exclude=P` works too; `--` ends the flags.
 */
export function parseTransferArgs(verb: 'put' | 'get' | 'sync', args: string[]): TransferArgs {
  const switches = new Set(['--json', '--checksum', ...(verb === 'sync' ? ['--delete'] : []), ...(verb === 'get' ? ['--keep-setid'] : ['--dry-run', '-n'])]);
  const valued = new Set(verb === 'get' ? [] : ['--exclude', '--include']);
  const known = [...switches, ...valued].filter((f) => f !== '-n').join(', ');
  const filter: FilterRule[] = [];
  const seen = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (valued.has(flag)) {
      const pattern = inline ?? args[++i];
      if (pattern === undefined) throw new VsshError('VSSH_BAD_INPUT', `${flag} needs a pattern (e.g. ${flag} '*.log')`);
      filter.push({ action: flag === '--exclude' ? 'exclude' : 'include', pattern });
    } else if (switches.has(flag) && inline === undefined) seen.add(flag === '-n' ? '--dry-run' : flag);
    else throw new VsshError('VSSH_BAD_INPUT', `unknown flag ${a} (vssh ${verb} takes ${known})`);
  }
  const example = verb === 'get' ? 'g2:/var/log/syslog ./syslog' : './site g2:/var/www';
  if (positional.length < 2 || (verb === 'get' && positional.length !== 2)) {
    throw new VsshError('VSSH_BAD_INPUT', `vssh ${verb} takes ${verb === 'get' ? 'a source' : 'one or more sources'} and a destination, e.g. ${example}`);
  }
  const opts: TransferOptions = { checksum: seen.has('--checksum'), delete: seen.has('--delete'), keepSetid: seen.has('--keep-setid'), dryRun: seen.has('--dry-run') };
  if (filter.length) opts.filter = filter;
  new Filter(filter); // a bad pattern is said here, before anything connects
  return { sources: positional.slice(0, -1), dest: positional.at(-1)!, opts, json: seen.has('--json') };
}

/**
 * transferMain is `vssh put|get|sync ...` (see parseTransferArgs), run without oclif (bin/run.js calls it
 * directly; the oclif commands delegate here too, so one parser reads the line). It prints the summary and
 * returns the exit code.
 */
export async function transferMain(verb: 'put' | 'get' | 'sync', args: string[]): Promise<number> {
  const json = args.includes('--json');
  try {
    const a = parseTransferArgs(verb, args);
    const s = await transfer(a.sources, a.dest, a.opts, verb === 'get' ? 'get' : 'put');
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
