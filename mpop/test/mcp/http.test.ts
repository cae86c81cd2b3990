import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';

const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));

/** raw sends one POST with the given headers and returns the status. */
function raw(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }));
  });
}

describe('mpop-mcp --http: bearer token, Host and Origin checks, then the same tools', () => {
  let fleet: Fleet;
  let server: ChildProcess;
  let url = '';
  let token = '';
  beforeAll(async () => {
    fleet = await loopFleet(2);
    const noToken = await execa(process.execPath, [MCP_BIN, '--http', '--port', '0'], { env: fleet.env, reject: false, timeout: 20_000 });
    expect(noToken.exitCode).toBe(1);
    expect(noToken.stderr).toContain('mpop-mcp token create');
    const t = await execa(process.execPath, [MCP_BIN, 'token', 'create'], { env: fleet.env });
    token = t.stdout.trim();
    expect(token).toMatch(/^mcp_[A-Za-z0-9_-]{43}$/);
    server = spawn(process.execPath, [MCP_BIN, '--http', '--port', '0'], { env: { ...process.env, ...fleet.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let err = '';
      server.stderr!.on('data', (d) => {
        err += d;
        const m = /serving MCP at (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (code) => reject(new Error(`mpop-mcp exited ${code}: ${err}`)));
    });
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    await fleet?.close();
  });

  it('refuses a missing or wrong token, a foreign Origin and a rebinding Host', async () => {
    expect(await raw(url, {})).toBe(401);
    expect(await raw(url, { authorization: 'Bearer mcp_wrong' })).toBe(401);
    expect(await raw(url, { authorization: `Bearer ${token}`, origin: 'http://evil.example' })).toBe(403);
    expect(await raw(url, { authorization: `Bearer ${token}`, host: 'evil.example:80' })).toBe(421);
  });

  it('serves the tools to a real client that holds the token', async () => {
    const client = new Client({ name: 'http-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('mpop_servers');
      const r = await client.callTool({ name: 'mpop_servers', arguments: {} });
      expect((r.structuredContent as { nodes: { name: string }[] }).nodes.map((n) => n.name)).toEqual(['n1', 'n2']);
    } finally {
      await client.close();
    }
  });

  it('a new token replaces the old one at the next start', async () => {
    const again = await execa(process.execPath, [MCP_BIN, 'token', 'create'], { env: fleet.env });
    expect(again.stdout.trim()).not.toBe(token);
  });
});
