import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet, processCount as pgrep } from '../fleet.js';
import { mcpClient, text } from './client.js';

/** connect starts the built mpop-mcp with `args` and connects a real SDK client to it over stdio. */
const connect = (fleet: Fleet, args: string[] = [], opts: { elicit?: (message: string) => 'yes' | 'no' | 'decline' } = {}) => mcpClient(fleet, args, { ...opts, stderr: 'pipe' });

describe('mpop-mcp over stdio with the SDK client, against real loopback daemons', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(3);
    await fleet.addDown('gone1');
  });
  afterAll(() => fleet?.close());

  it('lists the core tools with schemas and truthful annotations; other toolsets stay out until asked', async () => {
    const c = await connect(fleet);
    try {
      const { tools } = await c.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['mpop_servers', 'mpop_groups', 'mpop_exec', 'mpop_jobs', 'mpop_job_status', 'mpop_job_output', 'mpop_job_kill', 'mpop_toolsets']));
      expect(names).not.toContain('mpop_group_set');
      const exec = tools.find((t) => t.name === 'mpop_exec')!;
      expect(exec.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(exec.outputSchema).toBeDefined();
      expect(Object.values((exec.inputSchema as { properties: Record<string, { description?: string }> }).properties).every((p) => !!p.description)).toBe(true);
      expect(tools.find((t) => t.name === 'mpop_servers')!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      const ts = await c.callTool({ name: 'mpop_toolsets', arguments: {} });
      const sets = (ts.structuredContent as { toolsets: { name: string; enabled: boolean; tools: string[] }[] }).toolsets;
      expect(sets.find((s) => s.name === 'inventory')).toMatchObject({ enabled: false, tools: ['mpop_group_set', 'mpop_enroll'] });
    } finally {
      await c.close();
    }
  });

  it('mpop_servers returns the fleet as structured content and text', async () => {
    const c = await connect(fleet);
    try {
      const r = await c.callTool({ name: 'mpop_servers', arguments: {} });
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as { nodes: { name: string }[] }).nodes.map((n) => n.name)).toEqual(['gone1', 'n1', 'n2', 'n3']);
      expect(text(r)).toContain('n1  127.0.0.1:');
    } finally {
      await c.close();
    }
  });

  it('a destructive call is refused when the client cannot confirm, asked when it can, and audited either way', async () => {
    const plain = await connect(fleet);
    try {
      const r = await plain.callTool({ name: 'mpop_exec', arguments: { target: 'n1', argv: ['true'] } });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('--allow-destructive');
    } finally {
      await plain.close();
    }
    const asked: string[] = [];
    const yes = await connect(fleet, [], { elicit: (m) => (asked.push(m), 'yes') });
    try {
      const r = await yes.callTool({ name: 'mpop_exec', arguments: { target: 'n1,n2', shell: 'echo same' } });
      expect(asked[0]).toContain('Run `echo same` on n1,n2?');
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as { folded: { label: string; text: string }[] }).folded).toEqual([{ nodes: ['n1', 'n2'], label: 'n[1-2]', text: 'same\n' }]);
    } finally {
      await yes.close();
    }
    const no = await connect(fleet, [], { elicit: () => 'decline' });
    try {
      const r = await no.callTool({ name: 'mpop_exec', arguments: { target: 'n1', argv: ['true'] } });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('declined');
    } finally {
      await no.close();
    }
    const audit = readFileSync(join(fleet.home, 'mpop', 'mcp-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const execs = audit.filter((e) => e.tool === 'mpop_exec');
    expect(execs.map((e) => e.decision)).toEqual(['refused', 'confirmed', 'refused']);
    expect(execs[1]).toMatchObject({ client: 'vitest-agent', targets: 'n1,n2', outcome: 'ok' });
  });

  it('per-node outcomes: a down node is unreachable and the call says so as an error result, with the data', async () => {
    const c = await connect(fleet, ['--allow-destructive']);
    try {
      const r = await c.callTool({ name: 'mpop_exec', arguments: { target: 'all', argv: ['true'] } });
      expect(r.isError).toBe(true);
      const nodes = (r.structuredContent as { nodes: { node: string; outcome: string }[] }).nodes;
      expect(Object.fromEntries(nodes.map((n) => [n.node, n.outcome]))).toEqual({ gone1: 'unreachable', n1: 'ok', n2: 'ok', n3: 'ok' });
      expect(text(r)).toMatch(/ok: 3 \(n\[1-3\]\); unreachable: 1 \(gone1\)/);
    } finally {
      await c.close();
    }
  });

  it('bad arguments and unknown targets are tool errors, and the server keeps serving', async () => {
    const c = await connect(fleet, ['--allow-destructive']);
    try {
      const bad = await c.callTool({ name: 'mpop_exec', arguments: { target: 'n1', argv: 'not-a-list' } });
      expect(bad.isError).toBe(true);
      const both = await c.callTool({ name: 'mpop_exec', arguments: { target: 'n1', argv: ['true'], shell: 'true' } });
      expect(text(both)).toContain('exactly one');
      const typo = await c.callTool({ name: 'mpop_exec', arguments: { target: 'n1', argv: ['true'], timeout: 5 } }); // timeoutSeconds is the field
      expect(typo.isError).toBe(true);
      expect(text(typo)).toContain('timeout');
      const listed = (await c.listTools()).tools.find((t) => t.name === 'mpop_exec')!;
      expect(listed.inputSchema.additionalProperties).toBe(false);
      const none = await c.callTool({ name: 'mpop_exec', arguments: { target: 'nx9', argv: ['true'] } });
      expect(none.isError).toBe(true);
      expect(text(none)).toContain('MPOP_NO_MATCH');
      expect(text(none)).toContain('mpop_servers');
      const ok = await c.callTool({ name: 'mpop_servers', arguments: {} });
      expect(ok.isError).toBeFalsy();
    } finally {
      await c.close();
    }
  });

  it('read-only mode neither lists nor runs anything that changes the fleet', async () => {
    const c = await connect(fleet, ['--read-only', '--toolsets', 'all']);
    try {
      const names = (await c.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('mpop_exec');
      expect(names).not.toContain('mpop_group_set');
      expect(names).toContain('mpop_servers');
      const r = await c.callTool({ name: 'mpop_exec', arguments: { target: 'n1', argv: ['true'] } });
      expect(r.isError).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a long call sends progress, becomes a job past the deadline, and the job finishes', async () => {
    const c = await connect(fleet, ['--allow-destructive', '--deadline', '1']);
    try {
      const progress: number[] = [];
      const r = await c.callTool({ name: 'mpop_exec', arguments: { target: 'n1,n2,n3', shell: 'sleep 2; echo done' } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      const s = r.structuredContent as { jobId: string; jobStatus: string };
      expect(s.jobStatus).toBe('running');
      expect(progress.length).toBeGreaterThan(0); // the fan-out's progress reached the client before the hand-off
      const job = { id: s.jobId };
      expect(text(r)).toContain('mpop_job_status');
      let status = 'running';
      for (let i = 0; i < 50 && status === 'running'; i++) {
        await new Promise((res) => setTimeout(res, 200));
        status = ((await c.callTool({ name: 'mpop_job_status', arguments: { job: job.id } })).structuredContent as { job: { status: string } }).job.status;
      }
      expect(status).toBe('done');
      const out = await c.callTool({ name: 'mpop_job_output', arguments: { job: job.id } });
      expect(text(out)).toContain('done');
      const jobs = (await c.callTool({ name: 'mpop_jobs', arguments: {} })).structuredContent as { jobs: { id: string }[] };
      expect(jobs.jobs.map((j) => j.id)).toContain(job.id);
    } finally {
      await c.close();
    }
  });

  it('cancelling a call (notifications/cancelled) kills the remote command', async () => {
    const c = await connect(fleet, ['--allow-destructive']);
    const marker = `sleep 977${Math.floor(Math.random() * 10)}`;
    try {
      const ac = new AbortController();
      const call = c.callTool({ name: 'mpop_exec', arguments: { target: 'n1', shell: `${marker}; true` } }, undefined, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 800));
      expect(pgrep(marker)).toBeGreaterThan(0);
      ac.abort();
      await expect(call).rejects.toThrow();
      let left = 1;
      for (let i = 0; i < 40 && left > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = pgrep(marker);
      }
      expect(left).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('a result over the cap is cut, flagged, and paged through mpop_job_output', async () => {
    const c = await connect(fleet, ['--allow-destructive', '--max-output', '300']);
    try {
      const r = await c.callTool({ name: 'mpop_exec', arguments: { target: 'n1', shell: 'seq 1 400' } });
      const s = r.structuredContent as { truncated: boolean; jobId: string };
      expect(s.truncated).toBe(true);
      expect(Buffer.byteLength(text(r))).toBeLessThan(600);
      let all = '';
      let offset: number | null = 0;
      while (offset !== null) {
        const p = (await c.callTool({ name: 'mpop_job_output', arguments: { job: s.jobId, offset } })).structuredContent as { text: string; nextOffset: number | null };
        all += p.text;
        offset = p.nextOffset;
      }
      expect(all.split('\n').filter((l) => /^\d+$/.test(l))).toHaveLength(400);
    } finally {
      await c.close();
    }
  });
});
