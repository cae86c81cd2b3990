import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint, parseDuration, type Paint } from '../cli/base.js';
import { DIFF_SUBJECTS, diffNodes, type DiffSubject, type NodeDiff, type SubjectDiff } from '../facts/diff.js';

const SUBJECTS: DiffSubject[] = [...DIFF_SUBJECTS, 'files'];
const show = (v: unknown): string => (typeof v === 'string' ? v : v && typeof v === 'object' && 'type' in v ? fileText(v as Record<string, unknown>) : JSON.stringify(v));
const fileText = (f: Record<string, unknown>): string =>
  f.type === 'file' ? `file ${f.size} B${f.sha256 ? ` sha256 ${String(f.sha256).slice(0, 12)}` : ''} mode ${Number(f.mode).toString(8)}` : f.type === 'symlink' ? `symlink -> ${f.target}` : `${f.type} mode ${Number(f.mode).toString(8)}`;

/** renderDiff writes what differs, grouped by subject; a subject that is the same is one line. */
export function renderDiff(d: NodeDiff, c: Paint, max = 200): string {
  const out: string[] = [];
  const section = (s: SubjectDiff<unknown>): void => {
    const name = c.bold(s.subject);
    if (s.status === 'same') return void out.push(`${name}: ${c.green('same')}${s.same ? c.dim(` (${s.same})`) : ''}`);
    if (s.status === 'absent') return void out.push(`${name}: ${c.yellow('cannot compare')}`, ...Object.values(s.reasons ?? {}).map((r) => `  ${r}`));
    if (s.status === 'failed') return void out.push(`${name}: ${c.red('failed')}`, ...Object.entries(s.errors ?? {}).map(([n, e]) => `  ${n}: ${e.message}`));
    out.push(`${name}: ${s.onlyA.length} only on ${d.a}, ${s.onlyB.length} only on ${d.b}, ${s.differ.length} differ${s.same ? c.dim(`, ${s.same} same`) : ''}`);
    const lines: string[] = [
      ...s.onlyA.map((x) => `  ${c.red('-')} ${x.key}${x.value === '' ? '' : `  ${c.dim(show(x.value))}`}  ${c.dim(`(only on ${d.a})`)}`),
      ...s.onlyB.map((x) => `  ${c.green('+')} ${x.key}${x.value === '' ? '' : `  ${c.dim(show(x.value))}`}  ${c.dim(`(only on ${d.b})`)}`),
      ...s.differ.map((x) => `  ${c.yellow('~')} ${x.key}: ${d.a} ${show(x.a)}  ${d.b} ${show(x.b)}`),
    ];
    out.push(...lines.slice(0, max));
    if (lines.length > max) out.push(c.dim(`  ... and ${lines.length - max} more (--json lists all)`));
    for (const n of s.notes ?? []) out.push(`  ${c.yellow(n)}`);
  };
  for (const s of d.subjects) section(s);
  return out.join('\n');
}

export default class Diff extends MpopCommand {
  static override summary = 'Compare two nodes: kernel, installed packages, systemd services, listening ports, and a folder file by file.';
  static override description =
    'Reads each subject from both nodes at once and shows what is only on the first (-), only on the second (+), and on ' +
    'both but different (~), grouped by subject. Packages from dpkg-query or rpm; services from systemctl (state/sub-state); ' +
    'ports from ss, keyed by protocol, port and scope (any address, loopback, or the host\'s own), so two hosts\' own IPs ' +
    'are not a difference; --files PATH lists the folder on both (recursive, SHA-256 of every file) and compares content, ' +
    'links and permission bits. A subject missing on a node (no systemd) is said, not compared. Exit code 0 when nothing ' +
    'differs, 1 when something does (like diff(1)), 4 when a node does not answer.';
  static override examples = ['<%= config.bin %> diff g1 g2', '<%= config.bin %> diff web1 web2 --only packages', '<%= config.bin %> diff web1 web2 --files /etc/nginx --json'];
  static override args = { a: Args.string({ required: true, description: 'the first node' }), b: Args.string({ required: true, description: 'the second node' }) };
  static override flags = {
    only: Flags.string({ description: `compare only these subjects, comma-separated (${SUBJECTS.join(', ')})` }),
    files: Flags.string({ char: 'F', description: 'also compare this folder, file by file' }),
    timeout: Flags.string({ char: 't', description: 'per tool on each node: the node kills it past this (default: cancelled after 30s)' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<NodeDiff> {
    const { args, flags } = await this.parse(Diff);
    if (flags.files !== undefined && !flags.files.startsWith('/')) this.usage(`--files "${flags.files}" is not an absolute path on the nodes`);
    const subjects = flags.only?.split(',').map((x) => x.trim()).filter(Boolean) as DiffSubject[] | undefined;
    for (const x of subjects ?? []) if (!SUBJECTS.includes(x)) this.usage(`--only "${x}" is not a subject; give some of ${SUBJECTS.join(', ')}`);
    if (subjects && !subjects.length) this.usage('--only names no subject');
    const inv = await this.inventory(flags.inventory);
    const one = (t: string): string => {
      const names = inv.resolve(t);
      if (names.length !== 1) this.usage(`diff compares two nodes, and "${t}" names ${names.length}`);
      return names[0]!;
    };
    const [a, b] = [one(args.a), one(args.b)];
    const d = await diffNodes(this.pool, a, b, {
      ...(subjects ? { subjects } : {}),
      ...(flags.files ? { files: flags.files } : {}),
      ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
      signal: this.signal(),
    });
    if (!this.jsonEnabled()) this.log(renderDiff(d, paint(process.stdout)));
    if (d.differs || d.subjects.some((s) => s.status === 'failed')) process.exitCode = 1;
    return d;
  }
}
