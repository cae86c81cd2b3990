import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';

describe('mpop-mcp deploy tools on a real loopback daemon', () => {
  let fleet: Fleet;
  let client: Client;
  let work: string;
  beforeAll(async () => {
    fleet = await loopFleet(1);
    work = mkdtempSync(join(tmpdir(), 'mpop-mcp-deploy-'));
    client = await mcpClient(fleet, ['--toolsets', 'core,deploy', '--allow-destructive'], { name: 'deploy-agent' });
    await client.listTools();
  });
  afterAll(async () => {
    await client?.close();
    await fleet?.close();
    rmSync(work, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent: Record<string, unknown>; content: { text: string }[] };

  it('deploys, deploys again, lists releases, rolls back; a failing health check rolls the node back', async () => {
    const src = join(work, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'index.html'), 'v1\n');
    const site = join(work, 'node', 'site');
    mkdirSync(join(work, 'node'));
    const d1 = await call('mpop_deploy', { local: src, to: `n1:${site}` });
    expect(d1.isError, d1.content[0]!.text).toBeFalsy();
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('v1\n');
    writeFileSync(join(src, 'index.html'), 'v2\n');
    const d2 = await call('mpop_deploy', { local: src, to: `n1:${site}`, health: 'grep -q v2 index.html' });
    expect(d2.isError, d2.content[0]!.text).toBeFalsy();
    expect((d2.structuredContent.nodes as { value: { crossed: { files: number } } }[])[0]!.value.crossed.files).toBe(1);
    const rel = await call('mpop_releases', { target: 'n1', path: site });
    const v = (rel.structuredContent.nodes as { value: { releases: unknown[]; live: string } }[])[0]!.value;
    expect(v.releases).toHaveLength(2);
    expect(readlinkSync(site)).toContain(v.live);
    writeFileSync(join(src, 'index.html'), 'v3\n');
    const bad = await call('mpop_deploy', { local: src, to: `n1:${site}`, health: 'grep -q never index.html', healthTimeoutSeconds: 1 });
    expect(bad.isError).toBe(true);
    expect((bad.structuredContent.nodes as { value: { status: string } }[])[0]!.value.status).toBe('rolled-back');
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('v2\n');
    const rb = await call('mpop_rollback', { to: `n1:${site}` });
    expect(rb.isError, rb.content[0]!.text).toBeFalsy();
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('v1\n');
    const none = await call('mpop_rollback', { to: `n1:${site}` });
    expect(none.isError).toBe(true);
    expect(none.content[0]!.text).toMatch(/MPOP_NO_RELEASE|no release/i);
  });

  it('a malformed TARGET:PATH is a tool error', async () => {
    const r = await call('mpop_deploy', { local: work, to: 'n1-no-path' });
    expect(r.isError).toBe(true);
  });
});
