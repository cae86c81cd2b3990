import { isVsshError, type VsshClient } from '@meshpop/vssh/client';
import { commandText } from '../exec.js';
import { absent, Absent, lines, ParseError, runTool, ToolError, ToolOptions, ToolRun } from './tool.js';

/** Unit is one systemd unit as list-units shows it. */
export interface Unit {
  unit: string;
  /** loaded, not-found, masked, error, ... */
  load: string;
  /** active, inactive, failed, activating, deactivating, reloading */
  active: string;
  /** the unit type's own state: running, exited, dead, failed, listening, ... */
  sub: string;
  description: string;
}

/** UnitQuery picks units: which states, a pattern (systemctl's own glob), and the type (default service). */
export interface UnitQuery {
  /** only failed units */
  failed?: boolean;
  /** loaded-but-inactive units too (systemctl --all) */
  all?: boolean;
  /** unit name globs, as systemctl takes them ("nginx*", "ssh.service") */
  patterns?: string[];
  /** unit type (default "service"); "all" for every type */
  type?: string;
}

/** unitsArgv is the list-units command for a query, in JSON (systemd 246+) or plain columns. */
export function unitsArgv(q: UnitQuery = {}, form: 'json' | 'plain' = 'json'): string[] {
  const type = q.type ?? 'service';
  return [
    'systemctl', 'list-units', '--no-pager',
    ...(form === 'json' ? ['--output=json'] : ['--plain', '--no-legend']),
    ...(type === 'all' ? [] : [`--type=${type}`]),
    ...(q.failed ? ['--state=failed'] : []),
    ...(q.all ? ['--all'] : []),
    ...(q.patterns?.length ? ['--', ...q.patterns] : []),
  ];
}

const asUnit = (o: Record<string, unknown>): Unit | null =>
  typeof o.unit === 'string' ? { unit: o.unit, load: String(o.load ?? ''), active: String(o.active ?? ''), sub: String(o.sub ?? ''), description: String(o.description ?? '') } : null;

/** parseUnitsJson reads `systemctl list-units --output=json`: an array of {unit, load, active, sub, description}. */
export function parseUnitsJson(text: string): Unit[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ParseError('systemctl list-units --output=json', 1, text, `not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(doc)) throw new ParseError('systemctl list-units --output=json', 1, text, 'not a JSON array of units');
  return doc.map((o, i) => {
    const u = o && typeof o === 'object' ? asUnit(o as Record<string, unknown>) : null;
    if (!u) throw new ParseError('systemctl list-units --output=json', i + 1, JSON.stringify(o), 'an entry without a unit name');
    return u;
  });
}

/** parseUnitsPlain reads `systemctl list-units --plain --no-legend` (systemd before 246): four columns, then the description; a failed unit may start with ● or *. */
export function parseUnitsPlain(text: string): Unit[] {
  return lines(text).map(({ n, text: line }) => {
    const m = /^[\s●*]*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) throw new ParseError('systemctl list-units --plain', n, line, 'not unit, load, active, sub and description');
    return { unit: m[1]!, load: m[2]!, active: m[3]!, sub: m[4]!, description: m[5]!.trim() };
  });
}

/** ServicesFacts are a node's units for the query. */
export interface ServicesFacts {
  present: true;
  units: Unit[];
}

/** noSystemd tells whether the node runs without systemd: sd_booted()'s own test, /run/systemd/system missing. */
async function noSystemd(client: VsshClient): Promise<boolean> {
  try {
    const st = await client.stat('/run/systemd/system');
    return st.type !== 'dir';
  } catch (err) {
    if (isVsshError(err) && err.code === 'VSSH_NOT_FOUND') return true;
    return false; // a policy that forbids the path: judge by systemctl's own failure
  }
}

/**
 * readUnits lists the node's systemd units. No systemctl, or systemd not running as init (a container, a
 * namespace), is an Absent ("no systemd on n1 (...)"); systemctl failing otherwise is a ToolError.
 */
export async function readUnits(client: VsshClient, q: UnitQuery = {}, opts: ToolOptions = {}): Promise<ServicesFacts | Absent> {
  const node = client.target.name;
  const json = unitsArgv(q, 'json');
  const run: ToolRun | 'missing' = await runTool(client, json, opts);
  if (run === 'missing') return absent(`no systemd on ${node} (systemctl is not installed)`);
  if (run.exitCode !== 0) {
    if (await noSystemd(client)) return absent(`no systemd on ${node} (systemd is not running as init there${run.stderr.trim() ? `: ${run.stderr.trim().split('\n')[0]}` : ''})`);
    throw new ToolError(node, commandText({ argv: json }), run.exitCode, run.stderr);
  }
  if (run.stdout.trimStart().startsWith('[')) return { present: true, units: parseUnitsJson(run.stdout) };
  // An older systemd ignores --output for list-units and prints its table: ask again for plain columns.
  const plainArgv = unitsArgv(q, 'plain');
  const plain = await runTool(client, plainArgv, opts);
  if (plain === 'missing' || plain.exitCode !== 0) throw new ToolError(node, commandText({ argv: plainArgv }), plain === 'missing' ? null : plain.exitCode, plain === 'missing' ? '' : plain.stderr);
  return { present: true, units: parseUnitsPlain(plain.stdout) };
}
