import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';

type Nodes = { nodes: { node: string; outcome: string; value?: Record<string, unknown> }[] };

describe('mpop-mcp fact tools over real loopback daemons (every structured result checked against its schema by the client)', () => {
  let fleet: Fleet;
  let client: Client;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    client = await mcpClient(fleet, ['--toolsets', 'all', '--allow', 'mpop_service_restart'], { name: 'facts-agent' });
    await client.listTools(); // the client validates structuredContent against the output schemas it listed
  });
  afterAll(async () => {
    await client?.close();
    await fleet?.close();
  });

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args });
    return r as { isError?: boolean; structuredContent?: unknown; content: { text: string }[] };
  };

  it('mpop_status: one reading per node, the down node unreachable with its reason', async () => {
    const r = await call('mpop_status');
    const s = r.structuredContent as Nodes;
    expect(Object.fromEntries(s.nodes.map((n) => [n.node, n.outcome]))).toEqual({ gone1: 'unreachable', n1: 'ok', n2: 'ok' });
    expect(s.nodes.find((n) => n.node === 'n1')!.value).toMatchObject({ cores: expect.any(Number), memory: { totalBytes: expect.any(Number) } });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toMatch(/n\[1-2\]: load|n1: load/);
  });

  it('reads over a target: hw, disk, memory, load, ps, top, ports, temp, gpu (absent said plainly)', async () => {
    for (const name of ['mpop_hw', 'mpop_disk', 'mpop_memory', 'mpop_load', 'mpop_ps', 'mpop_top', 'mpop_ports', 'mpop_temp', 'mpop_gpu']) {
      const r = await call(name, { target: 'n1,n2' });
      expect(r.isError, `${name}: ${r.content[0]?.text}`).toBeFalsy();
      const s = r.structuredContent as Nodes;
      expect(s.nodes.map((n) => n.outcome), name).toEqual(['ok', 'ok']);
    }
    const g = (await call('mpop_gpu', { target: 'n1' })).structuredContent as Nodes;
    const v = g.nodes[0]!.value as { present: boolean; reason?: string };
    if (!v.present) expect(v.reason).toMatch(/^no NVIDIA GPU on n1/);
    const p = (await call('mpop_ps', { target: 'n1', grep: 'vitest', top: 3 })).structuredContent as Nodes;
    expect((p.nodes[0]!.value as { procs: unknown[] }).procs.length).toBeLessThanOrEqual(3);
  });

  it('services and service_status say plainly when there is no systemd; restart reports per node', async () => {
    const r = await call('mpop_services', { target: 'n1' });
    const v = (r.structuredContent as Nodes).nodes[0]!;
    if (v.value && (v.value as { present: boolean }).present === false) expect((v.value as { reason: string }).reason).toContain('n1');
    else expect(v.outcome).toBe('ok');
    const st = await call('mpop_service_status', { target: 'n1', unit: 'nginx' });
    expect((st.structuredContent as Nodes).nodes).toHaveLength(1);
    const restart = await call('mpop_service_restart', { target: 'n1', unit: 'no-such-unit-xyz' });
    expect(restart.isError).toBe(true);
    expect((restart.structuredContent as { nodes: { outcome: string }[] }).nodes[0]!.outcome).toBe('failed');
  });

  it('info, diff and matrix', async () => {
    const i = await call('mpop_info', { node: 'n1' });
    expect(i.isError).toBeFalsy();
    expect((i.structuredContent as { info: { node: string } }).info.node).toBe('n1');
    const many = await call('mpop_info', { node: 'n*' });
    expect(many.isError).toBe(true);
    expect(many.content[0]!.text).toContain('takes one node');
    const d = await call('mpop_diff', { a: 'n1', b: 'n2', subjects: ['kernel'] });
    expect(d.isError).toBeFalsy();
    expect((d.structuredContent as { subjects: { subject: string; status: string }[] }).subjects[0]).toMatchObject({ subject: 'kernel', status: 'same' });
    const m = await call('mpop_matrix', { target: 'n1,n2' });
    expect((m.structuredContent as { counts: { ok: number } }).counts.ok).toBe(2);
  });

  it('a bad argument is a tool error and the server goes on', async () => {
    const bad = await call('mpop_ps', { target: 'n1', top: -4 });
    expect(bad.isError).toBe(true);
    expect((await call('mpop_load', { target: 'n1' })).isError).toBeFalsy();
  });
});
