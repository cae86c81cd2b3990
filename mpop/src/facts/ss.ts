import type { VsshClient } from '@meshpop/vssh/client';
import { absent, Absent, lines, mustSucceed, ParseError, runTool, ToolOptions } from './tool.js';

/** SS_ARGV lists listening TCP and UDP sockets, numeric, with their processes, without a header. */
export const SS_ARGV = ['ss', '-Htlnup'];

/** SocketProcess is one process holding a socket, as ss names it (the name is the kernel's comm, cut at a `)`). */
export interface SocketProcess {
  name: string;
  pid: number;
  fd: number;
}

/** ListenSocket is one listening TCP socket or bound UDP socket. */
export interface ListenSocket {
  proto: 'tcp' | 'udp';
  /** the local address as ss prints it without brackets: "0.0.0.0", "::", "*", "127.0.0.53%lo", "::1" */
  address: string;
  port: number;
  /** empty when ss could not see the owner (another user's socket, or no permission) */
  processes: SocketProcess[];
}

const NETIDS = new Set(['tcp', 'udp']);
const STATES = new Set(['LISTEN', 'UNCONN']);

/** splitHostPort reads "addr:port", "[v6]:port" or "*:port" (the port after the last colon). */
export function splitHostPort(text: string): { address: string; port: number } | null {
  const i = text.lastIndexOf(':');
  if (i <= 0) return null;
  const port = text.slice(i + 1);
  if (!/^\d+$/.test(port) && port !== '*') return null;
  let address = text.slice(0, i);
  if (address.startsWith('[')) address = address.replace(/^\[(.*)\](%\S+)?$/, '$1$2');
  return { address, port: port === '*' ? 0 : Number(port) };
}

// One process in `users:((...),(...))`: its name is quoted but not escaped, so it ends at the `",pid=` that follows it.
const PROCESS = /\("(.*?)",pid=(\d+),fd=(\d+)\)/g;

/** parseProcesses reads ss's `users:(("name",pid=1,fd=3),...)` column. */
export function parseProcesses(text: string): SocketProcess[] {
  return [...text.matchAll(PROCESS)].map((m) => ({ name: m[1]!, pid: Number(m[2]), fd: Number(m[3]) }));
}

/**
 * parseSs reads `ss -Htlnup` (columns: Netid State Recv-Q Send-Q Local Peer [Process]; Netid only when
 * both -t and -u are given, so it is optional here). The process column, which may hold any bytes of a
 * process name, is everything after the peer column.
 */
export function parseSs(text: string, defaultProto: 'tcp' | 'udp' = 'tcp'): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const { n, text: line } of lines(text)) {
    const fields = line.trim().split(/\s+/);
    let proto: 'tcp' | 'udp' = defaultProto;
    if (NETIDS.has(fields[0]!)) proto = fields.shift() as 'tcp' | 'udp';
    else if (!STATES.has(fields[0]!)) throw new ParseError('ss -Htlnup', n, line, `"${fields[0]}" is neither a protocol nor a socket state`);
    if (!STATES.has(fields[0] ?? '')) throw new ParseError('ss -Htlnup', n, line, `"${fields[0]}" is not a socket state`);
    const [, recvQ, sendQ, local] = fields;
    if (!/^\d+$/.test(recvQ ?? '') || !/^\d+$/.test(sendQ ?? '') || !local) throw new ParseError('ss -Htlnup', n, line, 'the queue columns are not numbers');
    const hp = splitHostPort(local);
    if (!hp) throw new ParseError('ss -Htlnup', n, line, `"${local}" is not address:port`);
    const users = line.indexOf('users:(');
    out.push({ proto, ...hp, processes: users >= 0 ? parseProcesses(line.slice(users)) : [] });
  }
  return out.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto) || a.address.localeCompare(b.address));
}

/** PortsFacts are a node's listening sockets, and where they were read from. */
export interface PortsFacts {
  present: true;
  source: 'ss' | 'sysinfo';
  sockets: ListenSocket[];
  /** why the list is partial, when it is (no ss: TCP only, no processes) */
  note?: string;
}

/** readPorts runs ss on the node; without ss it falls back to the daemon's sysinfo (TCP only, no processes). */
export async function readPorts(client: VsshClient, opts: ToolOptions = {}): Promise<PortsFacts | Absent> {
  const run = await runTool(client, SS_ARGV, opts);
  if (run !== 'missing') return { present: true, source: 'ss', sockets: parseSs(mustSucceed(client.target.name, SS_ARGV, run).stdout) };
  const info = await client.sysinfo();
  if (!info.listening) return absent(`no socket list on ${client.target.name} (ss is not installed and sysinfo has none)`);
  const sockets = info.listening.map((p) => ({ proto: 'tcp' as const, address: p.address, port: p.port, processes: [] }));
  return { present: true, source: 'sysinfo', sockets, note: `ss is not installed on ${client.target.name}: TCP sockets only (from /proc/net), without their processes` };
}
