import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The agent skill (.claude/skills/meshpop/SKILL.md) checked against the real toolkit, so it cannot drift: every
 * tool name, tool-call example, command line, flag, toolset, error code, resource and prompt it names is looked up
 * in the built server's tools/list (a real SDK client over stdio, `mpop-mcp --toolsets all`, a scratch
 * MESHPOP_HOME), the CLIs' oclif manifests, `mpop-mcp --help`, the real `<cli> <command> --help`, and the packages'
 * error code lists. Its destructive list must be exactly the tools annotated destructiveHint: true.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SKILL_FILE = join(ROOT, '.claude/skills/meshpop/SKILL.md');
const MCP_BIN = join(ROOT, 'mpop/bin/mcp.js');
/** CLI_PACKAGES maps each CLI to its package folder (its bin is bin/run.js, its manifest oclif.manifest.json). */
const CLI_PACKAGES: Record<string, string> = { sv: 'vault', wire: 'wire', vssh: 'vssh', mpop: 'mpop', meshdb: 'meshdb' };
const PACKAGES = ['vault', 'wire', 'vssh', 'meshdb', 'mpop'];
const TOOL_NAME = /\b(?:mpop|wire|vssh|meshdb|vault)_[a-z0-9_]+\b/g;
const CODE_LIKE = /\b(?:MPOP|VSSH|VAULT|WIRE|MESHDB)_[A-Z0-9_]+\b/g;

// ---------------------------------------------------------------- what is true

interface Flag {
  name: string;
  /** takes a value (oclif type option) */
  value: boolean;
}

/** Command is one CLI command: its id with spaces, flags by long name and by char, how many positional args. */
interface Command {
  id: string;
  flags: Map<string, Flag>;
  chars: Map<string, Flag>;
  args: number;
  strict: boolean;
}

/** Cli is a CLI's commands by id; `root` is what runs with no command word (mpop-mcp's server). */
interface Cli {
  commands: Map<string, Command>;
  root?: Command;
}

interface Tool {
  name: string;
  toolset: string;
  readOnly: boolean;
  destructive: boolean;
  inputSchema: Record<string, unknown>;
  /** every property name of its input and output schemas, at any depth */
  fields: Set<string>;
}

/** Truth is everything SKILL.md is checked against. */
interface Truth {
  clis: Record<string, Cli>;
  tools: Map<string, Tool>;
  toolsets: Set<string>;
  errorCodes: Set<string>;
  /** environment variables the packages read (they look like codes: MESHDB_CHROMA_URL) */
  envVars: Set<string>;
  /** codes the server adds a next step to (guard.ts HINTS): the error table must explain them */
  hinted: string[];
  resources: string[];
  prompts: string[];
}

/** oclifCli reads a package's oclif manifest into a Cli. */
function oclifCli(pkg: string): Cli {
  const manifest = JSON.parse(readFileSync(join(ROOT, pkg, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { flags: Record<string, { name: string; char?: string; type: string }>; args: Record<string, unknown>; strict?: boolean }>;
  };
  const commands = new Map<string, Command>();
  for (const [id, c] of Object.entries(manifest.commands)) {
    const flags = new Map<string, Flag>();
    const chars = new Map<string, Flag>();
    for (const f of Object.values(c.flags)) {
      const flag = { name: f.name, value: f.type === 'option' };
      flags.set(f.name, flag);
      if (f.char) chars.set(f.char, flag);
    }
    commands.set(id.replaceAll(':', ' '), { id: id.replaceAll(':', ' '), flags, chars, args: Object.keys(c.args).length, strict: c.strict !== false });
  }
  return { commands };
}

/** helpCli reads mpop-mcp's flags from its --help: `--name VALUE` takes a value, `--name]` or `--name   text` does not. */
function helpCli(help: string): Cli {
  const flags = new Map<string, Flag>();
  for (const m of help.matchAll(/--([a-z][a-z-]*)(?:[ =]([^\s[\]]+))?/g)) {
    const had = flags.get(m[1]!);
    flags.set(m[1]!, { name: m[1]!, value: (had?.value ?? false) || m[2] !== undefined });
  }
  const commands = new Map<string, Command>();
  for (const m of help.matchAll(/^\s*mpop-mcp ((?:[a-z]+ )*[a-z]+)\s{2,}/gm)) commands.set(m[1]!, { id: m[1]!, flags: new Map(), chars: new Map(), args: 0, strict: true });
  return { commands, root: { id: '', flags, chars: new Map([['h', { name: 'help', value: false }]]), args: 0, strict: true } };
}

/** fieldsOf collects every property name of a JSON schema, at any depth. */
function fieldsOf(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) fieldsOf(s, into);
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'properties' && v && typeof v === 'object') for (const name of Object.keys(v)) into.add(name);
      fieldsOf(v, into);
    }
  }
  return into;
}

/** sourceFiles lists the .ts files under a folder. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** errorCodes reads every package's error codes from its src/errors.ts (a union type or a const array of strings). */
function errorCodes(): Set<string> {
  const codes = new Set<string>();
  for (const pkg of PACKAGES) for (const m of readFileSync(join(ROOT, pkg, 'src/errors.ts'), 'utf8').matchAll(/'([A-Z]+_[A-Z0-9_]+)'/g)) codes.add(m[1]!);
  return codes;
}

/** envVars lists the environment variables the packages' sources read (process.env.NAME). */
function envVars(): Set<string> {
  const names = new Set<string>();
  for (const pkg of PACKAGES) for (const f of sourceFiles(join(ROOT, pkg, 'src'))) for (const m of readFileSync(f, 'utf8').matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
  return names;
}

/** hintedCodes are the codes guard.ts answers with a next step (its HINTS table). */
function hintedCodes(): string[] {
  const src = readFileSync(join(ROOT, 'mpop/src/mcp/guard.ts'), 'utf8');
  const block = /const HINTS[^{]*\{([\s\S]*?)\n\};/.exec(src)?.[1] ?? '';
  return [...block.matchAll(/^\s*([A-Z]+_[A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

/** run runs a node script and returns its exit code and output (never throws). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** loadTruth starts the built mpop-mcp with every toolset, lists its tools through a real SDK client, and reads the rest from the tree. */
async function loadTruth(home: string): Promise<Truth> {
  const client = new Client({ name: 'skill-check', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'all'], env: { ...(process.env as Record<string, string>), MESHPOP_HOME: home }, stderr: 'pipe' }));
  try {
    const { tools } = await client.listTools();
    const sets = (await client.callTool({ name: 'mpop_toolsets', arguments: {} })).structuredContent as { toolsets: { name: string; tools: string[] }[] };
    const toolsetOf = new Map(sets.toolsets.flatMap((s) => s.tools.map((t) => [t, s.name] as const)));
    const resources = [...(await client.listResources()).resources.map((r) => r.uri), ...(await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate)];
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    const help = await run([MCP_BIN, '--help'], { MESHPOP_HOME: home });
    if (help.code !== 0) throw new Error(`mpop-mcp --help exited ${help.code}: ${help.stderr}`);
    const clis: Record<string, Cli> = { 'mpop-mcp': helpCli(help.stderr + help.stdout) };
    for (const [cli, pkg] of Object.entries(CLI_PACKAGES)) clis[cli] = oclifCli(pkg);
    return {
      clis,
      tools: new Map(tools.map((t) => [t.name, { name: t.name, toolset: toolsetOf.get(t.name) ?? '?', readOnly: t.annotations?.readOnlyHint === true, destructive: t.annotations?.destructiveHint === true, inputSchema: t.inputSchema as Record<string, unknown>, fields: fieldsOf([t.inputSchema, t.outputSchema]) }])),
      toolsets: new Set(sets.toolsets.map((s) => s.name)),
      errorCodes: errorCodes(),
      envVars: envVars(),
      hinted: hintedCodes(),
      resources,
      prompts,
    };
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------- reading the markdown

/** Span is a piece of code in the markdown: a line of a fenced block, or an inline `span`. */
interface Span {
  text: string;
  block: boolean;
  lang: string;
  line: number;
}

/** spans returns every code line of fenced blocks and every inline code span outside them. */
function spans(md: string): Span[] {
  const out: Span[] = [];
  let fence: string | undefined;
  md.split('\n').forEach((line, i) => {
    const open = /^\s*```(\S*)/.exec(line);
    if (open) {
      fence = fence === undefined ? open[1]! : undefined;
      return;
    }
    if (fence !== undefined) out.push({ text: line.trim(), block: true, lang: fence, line: i + 1 });
    else for (const m of line.matchAll(/`([^`]+)`/g)) out.push({ text: m[1]!, block: false, lang: '', line: i + 1 });
  });
  return out;
}

/** shellWords splits a shell line into words and operators (| || && ;), honouring quotes; a # starting a word ends the line. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    } else if (ch === '\\' && i + 1 < line.length) cur = (cur ?? '') + line[++i];
    else if (/\s/.test(ch)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (ch === '#' && cur === undefined) break;
    else if (ch === '|' || ch === ';' || ch === '&') {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
      const two = line[i + 1] === ch && ch !== ';';
      words.push(two ? ch + ch : ch);
      if (two) i++;
    } else cur = (cur ?? '') + ch;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** CommandLine is one invocation of a CLI the skill shows. */
interface CommandLine {
  cli: string;
  words: string[];
  where: string;
}

/** commandLines finds every invocation of a MeshPOP CLI in shell blocks and inline spans. */
function commandLines(md: string, clis: Iterable<string>): CommandLine[] {
  const names = new Set(clis);
  const out: CommandLine[] = [];
  for (const s of spans(md)) {
    if (s.block && !['', 'sh', 'bash', 'shell', 'console'].includes(s.lang)) continue;
    const words = shellWords(s.text.replace(/^\$\s+/, ''));
    let seg: string[] = [];
    for (const w of [...words, ';']) {
      if (['|', '||', '&&', ';', '&'].includes(w)) {
        while (seg.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(seg[0]!)) seg.shift();
        if (seg.length && names.has(seg[0]!) && (s.block || seg.length > 1)) out.push({ cli: seg[0]!, words: seg.slice(1), where: `line ${s.line}: ${s.text}` });
        seg = [];
      } else seg.push(w);
    }
  }
  return out;
}

/** Use is what one command line uses: the command, the flags (long names) and the values given to them. */
interface Use {
  cli: string;
  command: string;
  flags: Map<string, string[]>;
  chars: Set<string>;
}

/** resolve finds the command a line runs (the longest id made of its leading words) and checks its flags and arguments. */
function resolve(line: CommandLine, cli: Cli, problems: string[]): Use | undefined {
  const { words } = line;
  let cmd: Command | undefined;
  let used = 0;
  for (let k = 1; k <= words.length && !words[k - 1]!.startsWith('-'); k++) {
    const c = cli.commands.get(words.slice(0, k).join(' '));
    if (c) [cmd, used] = [c, k];
  }
  if (!cmd) {
    const lead = words.slice(0, words.findIndex((w) => w.startsWith('-')) >>> 0).join(' ');
    const topic = lead && [...cli.commands.keys()].some((id) => id.startsWith(lead + ' '));
    if (topic && !words.slice(lead.split(' ').length).length) return undefined; // a topic named in prose: `mpop secret`
    if (!cli.root || (words[0] && !words[0].startsWith('-'))) {
      problems.push(`${line.where}: "${line.cli} ${words.slice(0, 2).join(' ')}" is not a command of ${line.cli}`);
      return undefined;
    }
    cmd = cli.root;
  }
  const use: Use = { cli: line.cli, command: cmd.id, flags: new Map(), chars: new Set() };
  let positional = 0;
  for (let i = used; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') break;
    if (w.startsWith('--')) {
      const [name, inline] = [w.slice(2).split('=')[0]!, w.includes('=') ? w.slice(w.indexOf('=') + 1) : undefined];
      if (name === 'help') continue;
      const flag = cmd.flags.get(name);
      if (!flag) {
        problems.push(`${line.where}: ${line.cli}${cmd.id ? ` ${cmd.id}` : ''} has no flag --${name}`);
        continue;
      }
      const value = flag.value ? (inline ?? words[++i]) : undefined;
      if (flag.value && value === undefined) problems.push(`${line.where}: --${name} needs a value`);
      use.flags.set(name, [...(use.flags.get(name) ?? []), ...(value === undefined ? [] : [value])]);
    } else if (/^-[A-Za-z]/.test(w)) {
      for (let j = 1; j < w.length; j++) {
        const ch = w[j]!;
        const flag = ch === 'h' && !cmd.chars.has('h') ? { name: 'help', value: false } : cmd.chars.get(ch);
        if (!flag) {
          problems.push(`${line.where}: ${line.cli}${cmd.id ? ` ${cmd.id}` : ''} has no flag -${ch}`);
          break;
        }
        use.chars.add(ch);
        if (flag.value) {
          const value = j + 1 < w.length ? w.slice(j + 1) : words[++i];
          use.flags.set(flag.name, [...(use.flags.get(flag.name) ?? []), ...(value === undefined ? [] : [value])]);
          break;
        }
        use.flags.set(flag.name, use.flags.get(flag.name) ?? []);
      }
    } else positional++;
  }
  if (cmd.strict && positional > cmd.args) problems.push(`${line.where}: ${line.cli} ${cmd.id} takes ${cmd.args} argument${cmd.args === 1 ? '' : 's'}, given ${positional}`);
  return use;
}

/** section returns the text under the first heading that starts with `title`, up to the next heading of its level or higher. */
function section(md: string, title: string): string | undefined {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, '').startsWith(title));
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#{1,6} /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** table returns the body rows (cells, trimmed) of the first table whose first header cell is `first`. */
function table(md: string, first: string): string[][] {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\|\\s*${first}\\s*\\|`).test(l));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.split('|').slice(1, -1).map((c) => c.trim()));
  return rows;
}

const codeIn = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
const toolsIn = (text: string): Set<string> => new Set(text.match(TOOL_NAME) ?? []);
const diff = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

// ---------------------------------------------------------------- the checker

/** Checked is what checkSkill found: the problems, and the command uses (for the run against the real --help). */
interface Checked {
  problems: string[];
  uses: Use[];
  /** tool-call examples checked against their input schemas */
  calls: number;
}

/** checkSkill checks a SKILL.md text against the truth; every problem is a sentence naming what is wrong and where. */
function checkSkill(md: string, truth: Truth, dirName = 'meshpop'): Checked {
  const problems: string[] = [];
  // the frontmatter, as Claude Code reads it
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(md);
  if (!fm) problems.push('no YAML frontmatter (--- name, description ---) at the top');
  else {
    let meta: Record<string, unknown> = {};
    try {
      meta = (parseYaml(fm[1]!) ?? {}) as Record<string, unknown>;
    } catch (err) {
      problems.push(`the frontmatter is not YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const { name, description } = meta;
    if (typeof name !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name) || name.length > 64) problems.push(`frontmatter name ${JSON.stringify(name)} is not lowercase letters, digits and hyphens (at most 64)`);
    else if (name !== dirName) problems.push(`frontmatter name "${name}" is not its folder's name "${dirName}"`);
    if (typeof name === 'string' && /anthropic|claude/.test(name)) problems.push(`frontmatter name "${name}" uses a reserved word`);
    if (typeof description !== 'string' || !description.trim() || description.length > 1024) problems.push(`frontmatter description must be 1 to 1024 characters (is ${typeof description === 'string' ? description.length : typeof description})`);
    else if (/[<>]/.test(description)) problems.push('frontmatter description contains < or > (no XML tags)');
  }

  // tool names, anywhere
  for (const t of toolsIn(md)) if (!truth.tools.has(t)) problems.push(`${t} is not a tool of mpop-mcp --toolsets all`);

  // tool-call examples: `tool {json}` must pass the tool's input schema
  const validator = new AjvJsonSchemaValidator();
  let calls = 0;
  for (const s of spans(md)) {
    const m = /^([a-z]+_[a-z0-9_]+) (\{.*\})$/.exec(s.text);
    if (!m) continue;
    const tool = truth.tools.get(m[1]!);
    if (!tool) continue;
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(m[2]!) as Record<string, unknown>;
    } catch {
      problems.push(`line ${s.line}: the arguments of ${m[1]} are not JSON: ${m[2]}`);
      continue;
    }
    const props = Object.keys((tool.inputSchema.properties ?? {}) as Record<string, unknown>);
    for (const k of Object.keys(args)) if (!props.includes(k)) problems.push(`line ${s.line}: ${tool.name} has no argument "${k}" (it has: ${props.join(', ') || 'none'})`);
    calls++;
    const checked = validator.getValidator(tool.inputSchema as never)(args);
    if (!checked.valid) problems.push(`line ${s.line}: ${tool.name} ${m[2]} fails its input schema: ${checked.errorMessage}`);
  }

  // command lines: the command exists, its flags exist, no more arguments than it takes; --toolsets values exist
  const uses: Use[] = [];
  for (const line of commandLines(md, Object.keys(truth.clis))) {
    const use = resolve(line, truth.clis[line.cli]!, problems);
    if (!use) continue;
    uses.push(use);
    for (const v of use.flags.get('toolsets') ?? []) for (const ts of v.split(',')) if (ts !== 'all' && !truth.toolsets.has(ts)) problems.push(`${line.where}: no toolset "${ts}"`);
  }

  // a flag, an argument or a result field named on its own in prose: `--allow TOOL`, `"installNode": true`, `nextOffset`
  const allFlags = new Set(['help', ...Object.values(truth.clis).flatMap((c) => [...c.commands.values(), ...(c.root ? [c.root] : [])].flatMap((cmd) => [...cmd.flags.keys()]))]);
  const allFields = new Set([...truth.tools.values()].flatMap((t) => [...t.fields]));
  for (const s of spans(md)) {
    if (s.block) continue;
    const flag = /^--([a-z][a-z-]*)(?:[ =](\S+))?/.exec(s.text);
    if (flag && !allFlags.has(flag[1]!)) problems.push(`line ${s.line}: --${flag[1]} is a flag of no CLI`);
    if (flag?.[1] === 'toolsets' && flag[2]) for (const ts of flag[2].split(',')) if (ts !== 'all' && !truth.toolsets.has(ts)) problems.push(`line ${s.line}: no toolset "${ts}"`);
    const field = /^"([A-Za-z][A-Za-z0-9]*)":/.exec(s.text)?.[1] ?? /^[a-z]+[A-Z][A-Za-z0-9]*$/.exec(s.text)?.[0];
    if (field && !allFields.has(field)) problems.push(`line ${s.line}: "${field}" is an argument or result field of no tool`);
  }

  // the toolset table: every toolset once, each tool under its own toolset, every tool somewhere, how to enable it
  const rows = table(md, 'toolset');
  if (!rows.length) problems.push('no toolset table (| toolset | holds | enable |)');
  else {
    const named = new Set<string>();
    const listed = new Set<string>();
    for (const [first = '', holds = '', enable = ''] of rows) {
      const ts = codeIn(first)[0] ?? first;
      if (!truth.toolsets.has(ts)) problems.push(`toolset table: no toolset "${ts}"`);
      named.add(ts);
      for (const t of toolsIn(holds)) {
        listed.add(t);
        const real = truth.tools.get(t)?.toolset;
        if (real && real !== ts) problems.push(`toolset table: ${t} is in ${real}, not ${ts}`);
      }
      if (!(ts === 'core' && /default/.test(enable)) && !new RegExp(`--toolsets \\S*\\b${ts}\\b`).test(enable)) problems.push(`toolset table: the row of ${ts} does not say --toolsets ...${ts}`);
    }
    for (const ts of diff(truth.toolsets, named)) problems.push(`toolset table: toolset ${ts} is missing`);
    for (const t of diff(new Set(truth.tools.keys()), listed)) problems.push(`toolset table: ${t} is in no row`);
  }

  // the destructive list is exactly the destructiveHint tools; the "change state" list exactly the other writers
  const destructive = new Set([...truth.tools.values()].filter((t) => t.destructive).map((t) => t.name));
  const writers = new Set([...truth.tools.values()].filter((t) => !t.readOnly && !t.destructive).map((t) => t.name));
  for (const [title, want] of [['Destructive:', destructive], ['Change state', writers]] as const) {
    const text = section(md, title);
    if (text === undefined) {
      problems.push(`no section "${title}..."`);
      continue;
    }
    const said = toolsIn(text);
    for (const t of diff(want, said)) problems.push(`section "${title}": ${t} is missing (annotated ${title === 'Destructive:' ? 'destructiveHint: true' : 'neither read-only nor destructive'})`);
    for (const t of diff(said, want)) if (truth.tools.has(t)) problems.push(`section "${title}": ${t} does not belong (annotated ${truth.tools.get(t)!.destructive ? 'destructive' : truth.tools.get(t)!.readOnly ? 'read-only' : 'neither read-only nor destructive'})`);
  }

  // error codes: the table's are real, anything code-like anywhere is a code (or an env var the packages read)
  const errRows = table(md, 'code');
  if (!errRows.length) problems.push('no error table (| code | meaning | recovery |)');
  const inTable = new Set(errRows.map((r) => codeIn(r[0] ?? '')[0] ?? r[0] ?? ''));
  for (const c of inTable) if (!truth.errorCodes.has(c)) problems.push(`error table: ${c} is not an error code of any package`);
  for (const c of truth.hinted) if (!inTable.has(c)) problems.push(`error table: ${c} (the server answers it with a next step) is missing`);
  for (const c of new Set(md.match(CODE_LIKE) ?? [])) if (!truth.errorCodes.has(c) && !truth.envVars.has(c)) problems.push(`${c} is neither an error code nor an environment variable of the packages`);

  // resources and prompts
  for (const uri of new Set(md.match(/mpop:\/\/[a-z{}/]+/g) ?? [])) if (!truth.resources.includes(uri)) problems.push(`${uri} is not a resource or template of mpop-mcp`);
  const promptList = /prompts \(([^)]*)\)/.exec(md.replace(/\n/g, ' '))?.[1];
  if (promptList !== undefined) for (const p of codeIn(promptList)) if (!truth.prompts.includes(p)) problems.push(`${p} is not a prompt of mpop-mcp`);
  return { problems, uses, calls };
}

// ---------------------------------------------------------------- the tests

describe('the agent skill, SKILL.md, against the real CLIs and tools/list', () => {
  let home: string;
  let truth: Truth;
  let md: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'skill-home-'));
    truth = await loadTruth(home);
    md = readFileSync(SKILL_FILE, 'utf8');
  });
  afterAll(() => home && rmSync(home, { recursive: true, force: true }));

  it('the truth itself is what it should be (so an empty lookup cannot pass everything)', () => {
    expect(truth.tools.size).toBeGreaterThan(60);
    expect([...truth.tools.values()].filter((t) => t.destructive).length).toBeGreaterThan(5);
    expect(truth.toolsets).toContain('core');
    expect(truth.errorCodes).toContain('VSSH_UNREACHABLE');
    expect(truth.errorCodes).toContain('VAULT_LOCKED');
    expect(truth.hinted).toContain('MPOP_NO_MATCH');
    expect(truth.clis.mpop!.commands.get('secret shares distribute')?.flags.has('threshold')).toBe(true);
    expect(truth.clis['mpop-mcp']!.root!.flags.get('toolsets')).toEqual({ name: 'toolsets', value: true });
    expect(truth.clis['mpop-mcp']!.root!.flags.get('read-only')).toEqual({ name: 'read-only', value: false });
    expect([...truth.clis['mpop-mcp']!.commands.keys()]).toEqual(['token create']);
  });

  it('SKILL.md has no problem: frontmatter, tools and their example arguments, commands and flags, toolsets, destructive list, error codes', () => {
    const { problems, uses, calls } = checkSkill(md, truth, basename(dirname(SKILL_FILE)));
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(30);
    expect(uses.length).toBeGreaterThan(30);
    // it does teach each CLI and each recipe's tools
    expect(new Set(uses.map((u) => u.cli))).toEqual(new Set(['mpop', 'meshdb', 'wire', 'vssh', 'sv', 'mpop-mcp']));
    for (const t of ['mpop_enroll', 'mpop_deploy', 'mpop_rollback', 'mpop_heal_check', 'mpop_heal_fix', 'mpop_logs', 'meshdb_search', 'mpop_exec', 'vault_set']) expect(md).toMatch(new RegExp(`\`${t} \\{`));
  });

  it('every command and flag it uses is in the real `<cli> <command> --help` (not only the manifest)', async () => {
    const { uses } = checkSkill(md, truth);
    const byCommand = new Map<string, { cli: string; command: string; flags: Set<string>; chars: Set<string> }>();
    for (const u of uses.filter((u) => u.cli !== 'mpop-mcp')) {
      const key = `${u.cli} ${u.command}`;
      const e = byCommand.get(key) ?? { cli: u.cli, command: u.command, flags: new Set<string>(), chars: new Set<string>() };
      for (const f of u.flags.keys()) e.flags.add(f);
      for (const c of u.chars) e.chars.add(c);
      byCommand.set(key, e);
    }
    expect(byCommand.size).toBeGreaterThan(20);
    const entries = [...byCommand.values()];
    const missing: string[] = [];
    for (let i = 0; i < entries.length; i += 4) {
      await Promise.all(
        entries.slice(i, i + 4).map(async (e) => {
          const bin = join(ROOT, CLI_PACKAGES[e.cli]!, 'bin/run.js');
          const r = await run([bin, ...e.command.split(' '), '--help'], { MESHPOP_HOME: home, NO_COLOR: '1' });
          if (r.code !== 0) return missing.push(`${e.cli} ${e.command} --help exited ${r.code}: ${r.stderr.slice(0, 200)}`);
          if (!r.stdout.includes(`$ ${e.cli} ${e.command}`)) missing.push(`${e.cli} ${e.command} --help does not show its usage`);
          for (const f of e.flags) if (f !== 'help' && !new RegExp(`--${f}\\b`).test(r.stdout)) missing.push(`${e.cli} ${e.command} --help does not list --${f}`);
          for (const c of e.chars) if (c !== 'h' && !r.stdout.includes(`-${c}, --`)) missing.push(`${e.cli} ${e.command} --help does not list -${c}`);
        }),
      );
    }
    expect(missing).toEqual([]);
  }, 120_000);

  it('every mpop-mcp line it shows is accepted by the real mpop-mcp (strict option parsing)', async () => {
    const lines = commandLines(md, ['mpop-mcp']).filter((l) => l.words[0] !== 'token');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      const r = await run([MCP_BIN, ...l.words, '--help'], { MESHPOP_HOME: home });
      expect({ line: l.where, code: r.code, stderr: r.code ? r.stderr.slice(0, 200) : '' }).toEqual({ line: l.where, code: 0, stderr: '' });
    }
    // and it refuses a made-up flag, so the check above can fail
    expect((await run([MCP_BIN, '--toolsets', 'all', '--allow-everything', '--help'], { MESHPOP_HOME: home })).code).toBe(2);
  }, 120_000);

  it('a typo anywhere in the real SKILL.md is caught (tables, lists, indented blocks, inline spans)', () => {
    const mutations: [string, string, RegExp][] = [
      ['--accept-host-key SHA256', '--accept-hostkey SHA256', /mpop enroll has no flag --accept-hostkey/],
      ['"keyFile": "/root', '"keyfile": "/root', /mpop_enroll has no argument "keyfile"/],
      ['sv set app/db-password --category app', 'sv set app/db-password --categroy app', /sv set has no flag --categroy/],
      ['`wire_remove_node`, `vault_set`', '`vault_set`', /section "Destructive:": wire_remove_node is missing/],
      ['| `VAULT_LOCKED` |', '| `VAULT_LOCKD` |', /VAULT_LOCKD is not an error code/],
      ['`wire token create web4 --ttl 1h`', '`wire token make web4 --ttl 1h`', /"wire token make" is not a command/],
      ['--toolsets core,deploy --allow', '--toolsets core,deploi --allow', /no toolset "deploi"/],
      ['"batch": "1", "dryRun": true', '"batch": 1, "dryRun": true', /mpop_deploy .* fails its input schema/],
      ['"checks": ["disk", "unit"]', '"checks": ["disk", "units"]', /mpop_heal_fix .* fails its input schema/],
      ['`mpop_file_diff` |', '`mpop_file_diff`, `mpop_diff` |', /mpop_diff is in core, not files/],
      ['mpop releases @web:/var/www/site', 'mpop releases @web /var/www/site', /mpop releases takes 1 argument, given 2/],
      ['`--allow-destructive` for all', '`--allow-destructives` for all', /--allow-destructives is a flag of no CLI/],
      ['`"installNode": true`', '`"installNodes": true`', /"installNodes" is an argument or result field of no tool/],
      ['`nextOffset` is null', '`nextOfset` is null', /"nextOfset" is an argument or result field of no tool/],
    ];
    for (const [from, to, want] of mutations) {
      expect(md, from).toContain(from);
      const { problems } = checkSkill(md.replace(from, to), truth);
      expect(problems.some((p) => want.test(p)), `${from} -> ${to}: ${problems.join('; ')}`).toBe(true);
    }
  });

  it('the checker catches typos: a made-up tool, flag, command, toolset, error code, bad arguments and a wrong destructive list', () => {
    const bad = [
      '---',
      'name: meshpop',
      'description: Run the fleet.',
      '---',
      'Call `mpop_frobnicate {}` and `mpop_exec {"target": "web1", "argv": ["uptime"], "sudo": true}` and `mpop_job_status {"job": "j1"}`.',
      '```sh',
      'mpop exec web1 --frob -- uptime',
      'mpop deploy ./site @web:/srv -Z',
      'mpop frobnicate all',
      'mpop status web1 web2',
      'printf x | sv set app/x --colour',
      'mpop-mcp --toolsets core,gpus --allow-all',
      'meshdb search --limit',
      '```',
      '| toolset | holds | enable |',
      '|---|---|---|',
      '| `core` | `mpop_servers`, `meshdb_search` | on by default |',
      '| `gpus` | `mpop_gpu` | `--toolsets core,gpus` |',
      '### Destructive: asked first',
      '`mpop_exec`, `mpop_servers`',
      '### Change state',
      '`mpop_job_kill`',
      '| code | meaning | recovery |',
      '|---|---|---|',
      '| `VSSH_UNREACHABEL` | a typo | none |',
      'And `MPOP_NO_SUCH_THING` in prose; `mpop://nodez` and prompts (`troubleshoot`, `fix_everything`).',
      'Start it with `--allow-destructiv`, or `--toolsets core,fils`; add `"installNodes": true`; page with `nextOfset`.',
      '```',
      'vssh exec web1 --timeout 5s --colour -- ls',
      '```',
    ].join('\n');
    const { problems } = checkSkill(bad, truth);
    const expectProblem = (re: RegExp): void => void expect(problems.some((p) => re.test(p)), `${re} in:\n${problems.join('\n')}`).toBe(true);
    expectProblem(/mpop_frobnicate is not a tool/);
    expectProblem(/mpop_exec has no argument "sudo"/);
    expectProblem(/mpop_job_status .* fails its input schema/);
    expectProblem(/mpop exec has no flag --frob/);
    expectProblem(/mpop deploy has no flag -Z/);
    expectProblem(/"mpop frobnicate all" is not a command/);
    expectProblem(/mpop status takes 1 argument, given 2/);
    expectProblem(/sv set has no flag --colour/);
    expectProblem(/no toolset "gpus"/);
    expectProblem(/has no flag --allow-all/);
    expectProblem(/--limit needs a value/);
    expectProblem(/toolset table: meshdb_search is in search, not core/);
    expectProblem(/toolset table: toolset deploy is missing/);
    expectProblem(/toolset table: mpop_deploy is in no row/);
    expectProblem(/section "Destructive:": mpop_deploy is missing/);
    expectProblem(/section "Destructive:": mpop_servers does not belong/);
    expectProblem(/section "Change state": mpop_group_set is missing/);
    expectProblem(/error table: VSSH_UNREACHABEL is not an error code/);
    expectProblem(/error table: VSSH_NO_KEY .* is missing/);
    expectProblem(/MPOP_NO_SUCH_THING is neither an error code/);
    expectProblem(/mpop:\/\/nodez is not a resource/);
    expectProblem(/fix_everything is not a prompt/);
    expectProblem(/--allow-destructiv is a flag of no CLI/);
    expectProblem(/no toolset "fils"/);
    expectProblem(/"installNodes" is an argument or result field of no tool/);
    expectProblem(/"nextOfset" is an argument or result field of no tool/);
    expectProblem(/vssh exec has no flag --colour/);
    // commands are real where they should be: the same lines without the typos pass
    expect(problems.filter((p) => /mpop exec|sv set|meshdb search/.test(p) && !/--frob|--colour|--limit/.test(p))).toEqual([]);

    const front = (head: string): string[] => checkSkill(`---\n${head}\n---\n`, truth).problems.filter((p) => p.startsWith('frontmatter'));
    expect(front('name: MeshPop\ndescription: x')[0]).toMatch(/lowercase/);
    expect(front(`name: meshpop\ndescription: ${'x'.repeat(1025)}`)[0]).toMatch(/1024/);
    expect(front('name: other-name\ndescription: x')[0]).toMatch(/folder/);
    expect(checkSkill('---\nname: meshpop\ndescription: Use when: it breaks\n---\n', truth).problems[0]).toMatch(/not YAML/);
  });
});
