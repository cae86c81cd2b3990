import type { VsshClient } from '@meshpop/vssh/client';
import { lines, mustSucceed, ParseError, runTool, ToolError, ToolOptions } from './tool.js';

/**
 * PS_ARGV lists every process with fixed columns and ps's header. `user:32` (not ps's 8 columns, past which it
 * cuts a name to "longuse+") keeps user names whole. comm may hold spaces, so where it ends is read from the
 * header: the last COMMAND is where args starts.
 */
export const PS_ARGV = ['ps', '-eo', 'pid,ppid,user:32,pcpu,pmem,rss,etime,comm,args'];
/** COMM_WIDTH is ps's width for comm (the kernel keeps 15 bytes of a process name). */
export const COMM_WIDTH = 15;

/** Proc is one process. */
export interface Proc {
  pid: number;
  ppid: number;
  user: string;
  cpuPercent: number;
  memPercent: number;
  rssBytes: number;
  /** seconds since the process started */
  elapsedS: number;
  comm: string;
  args: string;
}

/** parseEtime reads ps's elapsed time, `[[dd-]hh:]mm:ss`, into seconds (null when it is not that). */
export function parseEtime(text: string): number | null {
  const m = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)$/.exec(text);
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

const HEAD = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+)\s+(\S+) /;

/**
 * parsePs reads the output of PS_ARGV: its header, then per process seven space-free columns, comm and args.
 * A column that outgrows its width (a zombie's etime can be "441077234-00:18:40") pushes the rest right, and ps
 * takes the excess back out of the padding that follows, so args still starts under its header whenever comm's
 * padding was wide enough. When it was not, comm is the next word (the rare comm with a space is then cut).
 */
export function parsePs(text: string): Proc[] {
  const [header, ...rows] = lines(text);
  if (!header) return [];
  const argsAt = header.text.lastIndexOf(' COMMAND') + 1;
  if (!/^\s*PID\s+PPID\s+USER\b/.test(header.text) || argsAt <= header.text.indexOf(' COMMAND') + 1) {
    throw new ParseError('ps', header.n, header.text, 'the header is not PID PPID USER %CPU %MEM RSS ELAPSED COMMAND COMMAND');
  }
  const out: Proc[] = [];
  for (const { n, text: line } of rows) {
    const m = HEAD.exec(line);
    if (!m) throw new ParseError('ps', n, line, 'the first seven columns are not pid ppid user %cpu %mem rss etime');
    const elapsedS = parseEtime(m[7]!);
    if (elapsedS === null) throw new ParseError('ps', n, line, `"${m[7]}" is not an elapsed time`);
    const at = m[0].length;
    let comm: string, args: string;
    if (line.length <= argsAt) {
      comm = line.slice(at).trimEnd(); args = '';
    } else if (at < argsAt && line[argsAt - 1] === ' ' && line.slice(at, argsAt).trimEnd().length <= COMM_WIDTH) {
      comm = line.slice(at, argsAt).trimEnd(); args = line.slice(argsAt);
    } else {
      const word = /^(\S+) +/.exec(line.slice(at));
      if (!word) throw new ParseError('ps', n, line, 'no command after the elapsed time');
      comm = word[1]!; args = line.slice(at + word[0].length);
    }
    out.push({
      pid: Number(m[1]), ppid: Number(m[2]), user: m[3]!, cpuPercent: Number(m[4]), memPercent: Number(m[5]),
      rssBytes: Number(m[6]) * 1024, elapsedS, comm, args,
    });
  }
  return out;
}

/** PsQuery narrows and orders a process list: a pattern over comm and args, the top N by CPU. */
export interface PsQuery {
  /** keep processes whose comm or args contain this text (case-insensitive) */
  grep?: string;
  /** keep this many, the busiest first (default: all) */
  top?: number;
  /** order by cpu (default), mem or rss */
  sort?: 'cpu' | 'mem' | 'rss';
}

/** PsFacts are a node's processes after the query, and how many there were in all. */
export interface PsFacts {
  present: true;
  total: number;
  matched: number;
  procs: Proc[];
}

/** selectProcs applies a PsQuery (leaving out the ps that listed them). */
export function selectProcs(all: Proc[], q: PsQuery = {}, self?: (p: Proc) => boolean): PsFacts {
  const needle = q.grep?.toLowerCase();
  const others = self ? all.filter((p) => !self(p)) : all;
  const matched = others.filter((p) => !needle || p.comm.toLowerCase().includes(needle) || p.args.toLowerCase().includes(needle));
  const key = q.sort === 'mem' ? (p: Proc) => p.memPercent : q.sort === 'rss' ? (p: Proc) => p.rssBytes : (p: Proc) => p.cpuPercent;
  matched.sort((a, b) => key(b) - key(a) || b.rssBytes - a.rssBytes || a.pid - b.pid);
  return { present: true, total: others.length, matched: matched.length, procs: q.top ? matched.slice(0, q.top) : matched };
}

/** readProcs runs ps on the node and applies the query. A node without ps is an error (every Linux has one). */
export async function readProcs(client: VsshClient, q: PsQuery = {}, opts: ToolOptions = {}): Promise<PsFacts> {
  const run = await runTool(client, PS_ARGV, opts);
  if (run === 'missing') throw new ToolError(client.target.name, 'ps', null, '', 'is not installed (install procps)');
  const procs = parsePs(mustSucceed(client.target.name, PS_ARGV, run).stdout);
  return selectProcs(procs, q, (p) => p.comm === 'ps' && p.args.startsWith(PS_ARGV.join(' ')));
}
