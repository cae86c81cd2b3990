/** mpop-mcp's command line: options, then the server on stdio (the default). */
import { parseArgs } from 'node:util';
import { meshpopHome } from '@meshpop/vault/light';
import { Pool } from '@meshpop/vssh';
import { mcpAuditFile } from './audit.js';
import { DEFAULT_MAX_TEXT } from './cap.js';
import { Guard } from './guard.js';
import { createMcpServer, serveStdio } from './sdk.js';
import { catalogue, parseToolsets } from './tools/index.js';

const HELP = `mpop-mcp: the MeshPOP fleet for AI agents, over the Model Context Protocol (stdio).

Usage: mpop-mcp [--toolsets core,exec,...|all] [--read-only] [--allow-destructive] [--allow TOOL]...
                [--max-output BYTES] [--deadline SECONDS]

  --toolsets LIST       groups of tools to offer (default: core); mpop_toolsets lists them all
  --read-only           offer and serve only tools that change nothing
  --allow-destructive   run destructive tools without asking (otherwise: asked through the client, refused if it cannot ask)
  --allow TOOL          run this destructive tool without asking (repeatable)
  --max-output BYTES    text per result (default ${DEFAULT_MAX_TEXT}); the rest is paged with mpop_job_output
  --deadline SECONDS    a long call returns a job id after this long (default 20)

Every call is recorded in $MESHPOP_HOME/mpop/mcp-audit.jsonl (secret-looking arguments redacted).`;

/** INSTRUCTIONS tell the agent how the server is meant to be used. */
const INSTRUCTIONS =
  'mpop-mcp runs a fleet of machines. Start with mpop_servers (node names and groups) and mpop_status. Targets are a node, @group, a glob, a comma list, all, or @failed/@changed (the previous run). Results are per node; a node down is its own outcome. Destructive tools ask for confirmation. Long calls return a job id: follow it with mpop_job_status and read it with mpop_job_output. mpop_toolsets lists the groups of tools and how to enable more.';

/** mcpMain runs the server until the client goes away; it returns the exit code. */
export async function mcpMain(argv: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        toolsets: { type: 'string' },
        'read-only': { type: 'boolean' },
        'allow-destructive': { type: 'boolean' },
        allow: { type: 'string', multiple: true },
        'max-output': { type: 'string' },
        deadline: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`mpop-mcp: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (v.help) {
    process.stderr.write(HELP + '\n');
    return 0;
  }
  if (v.version) {
    process.stdout.write((await import('../version.js')).VERSION + '\n');
    return 0;
  }
  let toolsets;
  try {
    toolsets = parseToolsets(v.toolsets);
  } catch (err) {
    process.stderr.write(`mpop-mcp: ${(err as Error).message}\n`);
    return 2;
  }
  const num = (flag: string, text: string | undefined, def: number): number => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} "${text}" is not a positive number`);
    return n;
  };
  let maxText: number;
  let deadlineMs: number;
  try {
    maxText = Math.round(num('max-output', v['max-output'], DEFAULT_MAX_TEXT));
    deadlineMs = Math.round(num('deadline', v.deadline, 20) * 1000);
  } catch (err) {
    process.stderr.write(`mpop-mcp: ${(err as Error).message}\n`);
    return 2;
  }
  const home = meshpopHome();
  const pool = new Pool({ home, retries: 1 });
  const guard = new Guard({ home, readOnly: v['read-only'] === true, allowDestructive: v['allow-destructive'] === true, allow: new Set(v.allow ?? []), maxText, deadlineMs }, pool, mcpAuditFile(home));
  const tools = catalogue(guard.jobs, () => toolsets).filter((t) => toolsets.has(t.toolset));
  const server = createMcpServer(tools, guard, INSTRUCTIONS);
  try {
    await serveStdio(server);
  } finally {
    await pool.close();
  }
  return 0;
}
