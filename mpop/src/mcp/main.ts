/** mpop-mcp's command line: options, then the server on stdio (the default). */
import { parseArgs } from 'node:util';
import { meshpopHome } from '@meshpop/vault/light';
import { Pool } from '@meshpop/vssh/client';
import { mcpAuditFile } from './audit.js';
import { DEFAULT_MAX_TEXT } from './cap.js';
import { Guard } from './guard.js';
import { accessPolicy, newToken, TOKEN_SECRET } from './http-access.js';
import { PROMPTS } from './prompts.js';
import { RESOURCES } from './resources.js';
import { createMcpServer, serveHttp, serveStdio, type ServerExtras } from './sdk.js';
import { catalogue, parseToolsets } from './tools/index.js';
import { setVaultReadable } from './tools/secrets.js';

const HELP = `mpop-mcp: the MeshPOP fleet for AI agents, over the Model Context Protocol (stdio by default).

Usage: mpop-mcp [--toolsets core,exec,...|all] [--read-only] [--allow-destructive] [--allow TOOL]...
                [--max-output BYTES] [--deadline SECONDS] [--vault-readable GLOB]...
                [--http [--port 8791] [--bind 127.0.0.1] [--allow-origin URL]...]
       mpop-mcp token create       a new bearer token for --http, kept in the vault (mpop/mcp-token), printed once

  --toolsets LIST       groups of tools to offer (default: core); mpop_toolsets lists them all
  --read-only           offer and serve only tools that change nothing
  --allow-destructive   run destructive tools without asking (otherwise: asked through the client, refused if it cannot ask)
  --allow TOOL          run this destructive tool without asking (repeatable)
  --max-output BYTES    text per result (default ${DEFAULT_MAX_TEXT}); the rest is paged with mpop_job_output
  --deadline SECONDS    a long call returns a job id after this long (default 20)
  --vault-readable GLOB vault_get may return values of secrets whose names match (repeatable; e.g. 'app/*';
                        * is one path part, ** any); without it no value is given. vssh/* and wire/* never are
  --http                serve streamable HTTP at http://BIND:PORT/mcp instead of stdio; every request needs
                        Authorization: Bearer <token>, and a Host/Origin of this server (DNS rebinding)
  --bind ADDR           address for --http (default 127.0.0.1; the node's mesh address to serve the mesh)

Every call is recorded in $MESHPOP_HOME/mpop/mcp-audit.jsonl (secret-looking arguments redacted).`;

/** INSTRUCTIONS tell the agent how the server is meant to be used. */
const INSTRUCTIONS =
  'mpop-mcp runs a fleet of machines. Start with mpop_servers (node names and groups) and mpop_status. Targets are a node, @group, a glob, a comma list, all, or @failed/@changed (the previous run). Results are per node; a node down is its own outcome. Destructive tools ask for confirmation. Long calls return a job id: follow it with mpop_job_status and read it with mpop_job_output (a client with MCP tasks can call them as tasks instead; the task id is the job id). mpop_toolsets lists the groups of tools and how to enable more. Resources: mpop://nodes (the inventory), mpop://nodes/{name} (one node, live), mpop://audit, mpop://releases/{TARGET:PATH}; prompts troubleshoot, deploy, health_report and incident are playbooks.';

/** mcpMain runs the server until the client goes away; it returns the exit code. */
export async function mcpMain(argv: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv[0] === 'token' ? [] : argv,
      strict: true,
      options: {
        toolsets: { type: 'string' },
        'read-only': { type: 'boolean' },
        'allow-destructive': { type: 'boolean' },
        allow: { type: 'string', multiple: true },
        'max-output': { type: 'string' },
        deadline: { type: 'string' },
        http: { type: 'boolean' },
        port: { type: 'string' },
        bind: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'vault-readable': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`mpop-mcp: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (argv[0] === 'token') return tokenMain(argv.slice(1));
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
  setVaultReadable(v['vault-readable'] ?? []);
  const all = catalogue(guard.jobs, () => toolsets);
  const tools = all.filter((t) => toolsets.has(t.toolset));
  const extras: ServerExtras = { resources: RESOURCES, prompts: PROMPTS, catalogue: all };
  try {
    if (!v.http) {
      await serveStdio(createMcpServer(tools, guard, INSTRUCTIONS, extras));
      return 0;
    }
    const port = v.port === undefined ? 8791 : Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port "${v.port}" is not a TCP port`);
    const token = await readToken(home);
    const bind = v.bind ?? '127.0.0.1';
    const http = await serveHttp(() => createMcpServer(tools, guard, INSTRUCTIONS, extras), bind, port, (p) => accessPolicy(token, bind, p, v['allow-origin'] ?? []));
    process.stderr.write(`mpop-mcp serving MCP at ${http.url} (bearer token from the vault: ${TOKEN_SECRET})\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await http.close();
    return 0;
  } catch (err) {
    process.stderr.write(`mpop-mcp: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await pool.close();
  }
}

/** readToken reads the HTTP bearer token from the vault, or says how to make one. */
async function readToken(home: string): Promise<string> {
  const { openVault, isVaultError } = await import('@meshpop/vault');
  const vault = await openVault({ home });
  try {
    return await vault.getString(TOKEN_SECRET);
  } catch (err) {
    if (isVaultError(err, 'VAULT_NOT_FOUND')) throw new Error(`no bearer token yet: run mpop-mcp token create (it is kept in the vault as ${TOKEN_SECRET})`);
    throw err;
  } finally {
    await vault.close();
  }
}

/** tokenMain is `mpop-mcp token create`: a new token in the vault, printed once (the old one stops working). */
async function tokenMain(args: string[]): Promise<number> {
  if (args[0] !== 'create' || args.length > 1) {
    process.stderr.write('usage: mpop-mcp token create\n');
    return 2;
  }
  const { openVault } = await import('@meshpop/vault');
  const vault = await openVault({ home: meshpopHome() });
  try {
    const token = newToken();
    await vault.set(TOKEN_SECRET, token, { category: 'mpop-mcp', tags: ['bearer-token'] });
    process.stdout.write(token + '\n');
    process.stderr.write(`mpop-mcp: a new bearer token is in the vault (${TOKEN_SECRET}); give it to the client as Authorization: Bearer <token>. The previous one no longer works.\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`mpop-mcp: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await vault.close();
  }
}
