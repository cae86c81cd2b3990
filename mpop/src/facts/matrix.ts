import { isVsshError, type Address, type Pool, type VsshClient } from '@meshpop/vssh/client';
import { fanout, type FanoutOptions, type Outcome } from '../fanout/run.js';
import type { ErrorInfo } from '../errors.js';
import type { FleetNode } from '../inventory/inventory.js';
import { ParseError, ToolError, lines, type ToolOptions } from './tool.js';

/** MatrixTarget is where a node is dialled by the others: its Wire address when it has one, else its first. */
export interface MatrixTarget {
  node: string;
  host: string;
  port: number;
}

/** MatrixCell is one path: from a node, a TCP connect to another's vssh port. */
export interface MatrixCell {
  to: string;
  ok: boolean;
  /** connect time in ms, when it connected */
  ms: number | null;
  /** why it did not (ECONNREFUSED, timed out, ...) */
  error: string | null;
}

/** MatrixRow is what one node saw; its outcome is not ok when the probe could not be run there at all. */
export interface MatrixRow {
  from: string;
  outcome: Outcome;
  /** which probe ran on the node: node's net.connect, or bash's /dev/tcp */
  method: 'node' | 'bash' | null;
  cells: MatrixCell[];
  error?: ErrorInfo;
}

/** Matrix is every node-to-node path among the nodes. */
export interface Matrix {
  nodes: string[];
  targets: MatrixTarget[];
  rows: MatrixRow[];
  /** paths that connected, that did not, and that could not be tried (their source did not run the probe) */
  counts: { ok: number; failed: number; untried: number };
  durationMs: number;
}

/** matrixTarget picks the address others dial for a node: the `wire` one, else the first. */
export function matrixTarget(n: FleetNode): MatrixTarget | null {
  const a: Address | undefined = n.addresses.find((x) => x.via === 'wire') ?? n.addresses[0];
  return a ? { node: n.name, host: a.host, port: a.port } : null;
}

/** NODE_PROBE connects to every target at once (argv: JSON targets, timeout ms) and prints one JSON array. */
export const NODE_PROBE = `const net=require('net');const t=JSON.parse(process.argv[1]);const ms=Number(process.argv[2]);
Promise.all(t.map((x)=>new Promise((r)=>{const t0=performance.now();const s=net.connect({host:x.host,port:x.port});let d=false;
const done=(ok,err)=>{if(d)return;d=true;s.destroy();r({to:x.node,ok,ms:ok?Math.round((performance.now()-t0)*10)/10:null,error:err??null});};
s.setTimeout(ms,()=>done(false,'timed out after '+ms+' ms'));s.once('connect',()=>done(true));s.once('error',(e)=>done(false,e.code||e.message));})))
.then((r)=>process.stdout.write(JSON.stringify(r)));`;

/** BASH_PROBE tries each target in turn with /dev/tcp under timeout(1) (args: seconds, then node host port triples) and prints "ok|failed<TAB>node<TAB>µs|status". */
export const BASH_PROBE = `to=$1; shift
while [ $# -ge 3 ]; do n=$1; h=$2; p=$3; shift 3
  s=$(date +%s%N)
  if timeout "$to" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p" 2>/dev/null; then e=$(date +%s%N); printf 'ok\\t%s\\t%s\\n' "$n" $(( (e - s) / 1000 ))
  else printf 'failed\\t%s\\t%s\\n' "$n" "$?"; fi
done`;

/** parseNodeProbe reads NODE_PROBE's output. */
export function parseNodeProbe(text: string): MatrixCell[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ParseError('the node probe', 1, text, `not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(doc)) throw new ParseError('the node probe', 1, text, 'not an array');
  return doc.map((c: Record<string, unknown>) => ({ to: String(c.to), ok: c.ok === true, ms: typeof c.ms === 'number' ? c.ms : null, error: typeof c.error === 'string' ? c.error : null }));
}

/** parseBashProbe reads BASH_PROBE's lines (status 124 is timeout(1)'s "timed out"). */
export function parseBashProbe(text: string): MatrixCell[] {
  return lines(text).map(({ n, text: line }) => {
    const [state, to, v] = line.split('\t');
    if ((state !== 'ok' && state !== 'failed') || !to || !/^\d+$/.test(v ?? '')) throw new ParseError('the bash probe', n, line, 'not ok|failed, node and a number');
    return state === 'ok'
      ? { to, ok: true, ms: Math.round(Number(v) / 100) / 10, error: null }
      : { to, ok: false, ms: null, error: v === '124' ? 'timed out' : `connect failed (bash exit ${v})` };
  });
}

/** MATRIX_CONNECT_MS is the default connect timeout of a path (see MatrixOptions). */
export const MATRIX_CONNECT_MS = 6000;

/**
 * MatrixOptions: the connect timeout of each path, and the fan-out's own options. The default, 6 s, outlasts one
 * WireGuard handshake retry: an idle pair whose first initiation is lost tries again after 5 s (REKEY_TIMEOUT), and
 * that path works.
 */
export interface MatrixOptions extends FanoutOptions {
  connectTimeoutMs?: number;
}

async function probe(client: VsshClient, targets: MatrixTarget[], connectMs: number, tool: ToolOptions): Promise<{ method: 'node' | 'bash'; cells: MatrixCell[] }> {
  const run = async (argv: string[]) => {
    const r = await client.exec({ argv }, { env: { LC_ALL: 'C' }, ...(tool.signal ? { signal: tool.signal } : {}) });
    if (r.exitCode !== 0) throw new ToolError(client.target.name, argv[0]!, r.exitCode, r.stderr.toString('utf8'));
    return r.stdout.toString('utf8');
  };
  try {
    return { method: 'node', cells: parseNodeProbe(await run(['node', '-e', NODE_PROBE, JSON.stringify(targets), String(connectMs)])) };
  } catch (err) {
    if (!(isVsshError(err) && err.code === 'VSSH_NOT_FOUND')) throw err;
  }
  const args = targets.flatMap((t) => [t.node, t.host, String(t.port)]);
  return { method: 'bash', cells: parseBashProbe(await run(['bash', '-c', BASH_PROBE, 'probe', String(connectMs / 1000), ...args])) };
}

/**
 * meshMatrix checks every node-to-node path: on each node (through vssh, so the test runs where the path
 * starts) a TCP connect to every other node's vssh address, with a timeout. A node that cannot be reached
 * or cannot run a probe (no node, no bash) has its row's outcome say so, and its paths count as untried.
 */
export async function meshMatrix(pool: Pool, nodes: FleetNode[], opts: MatrixOptions = {}): Promise<Matrix> {
  const started = performance.now();
  const connectMs = opts.connectTimeoutMs ?? MATRIX_CONNECT_MS;
  const targets = nodes.map(matrixTarget).filter((t): t is MatrixTarget => t !== null);
  // No timeout is sent to the nodes (a policy maximum would refuse it); past this the run cancels the probe.
  // The bash probe tries the targets one after the other, so its bound grows with them.
  const timeoutMs = opts.timeoutMs ?? connectMs * (targets.length + 2) + 5000;
  const run = await fanout(pool, nodes.map((n) => n.name), ({ node, client, signal }) => probe(client, targets.filter((t) => t.node !== node), connectMs, { signal }), { ...opts, timeoutMs });
  const rows: MatrixRow[] = run.results.map((r) => ({
    from: r.node,
    outcome: r.outcome,
    method: r.value?.method ?? null,
    cells: r.value?.cells ?? [],
    ...(r.error ? { error: r.error } : {}),
  }));
  const counts = { ok: 0, failed: 0, untried: 0 };
  for (const row of rows) {
    if (row.outcome !== 'ok') counts.untried += targets.filter((t) => t.node !== row.from).length;
    for (const c of row.cells) counts[c.ok ? 'ok' : 'failed']++;
  }
  return { nodes: nodes.map((n) => n.name), targets, rows, counts, durationMs: Math.round(performance.now() - started) };
}
