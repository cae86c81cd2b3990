import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';

type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
const SECRET_TOOLS = ['vault_status', 'vault_list', 'vault_get', 'vault_set', 'vault_delete', 'vault_audit'];
const VALUE = 'Sup3r-s3cret-v4lue-7731';

/** everyFile lists every file under a folder (to check no value landed anywhere on disk in the clear). */
const everyFile = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? everyFile(join(dir, f)) : [join(dir, f)]));

describe('mpop-mcp secrets toolset over a real vault', () => {
  let fleet: Fleet;
  let client: Client;
  let bare: Client;
  beforeAll(async () => {
    fleet = await loopFleet(1);
    const readable = ['app/*', 'vssh/**', 'wire/**', 'mpop/*'].flatMap((g) => ['--vault-readable', g]);
    client = await mcpClient(fleet, ['--toolsets', 'all', '--allow', 'vault_set', '--allow', 'vault_delete', ...readable], { name: 'secrets-agent' });
    await client.listTools();
    bare = await mcpClient(fleet, ['--toolsets', 'all', ...readable], { name: 'secrets-bare' });
    await bare.listTools();
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await bare?.close();
    await fleet?.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}, c = client) => (await c.callTool({ name, arguments: args })) as R;

  it('annotations: set and delete destructive, the rest read-only', async () => {
    const tools = (await client.listTools()).tools.filter((t) => SECRET_TOOLS.includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual([...SECRET_TOOLS].sort());
    for (const t of tools) {
      if (t.name === 'vault_set' || t.name === 'vault_delete') expect(t.annotations, t.name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      else expect(t.annotations?.readOnlyHint, t.name).toBe(true);
    }
  });

  it('vault_status reads the vault and the readable globs', async () => {
    const r = await call('vault_status');
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ initialized: true, readable: ['app/*', 'vssh/**', 'wire/**', 'mpop/*'] });
    expect(r.structuredContent.audit.intact).toBe(true);
  });

  it('set then list shows the name (never the value); get gives it back for an allowed name only', async () => {
    const s = await call('vault_set', { name: 'app/db-password', value: VALUE, category: 'db', tags: ['prod'] });
    expect(s.isError, s.content[0]?.text).toBeFalsy();
    expect(s.structuredContent.secret).toMatchObject({ name: 'app/db-password', version: 1, category: 'db', tags: ['prod'] });
    expect(JSON.stringify(s)).not.toContain(VALUE);
    expect((await call('vault_set', { name: 'other/token', value: 'nope-not-readable-99' })).isError).toBeFalsy();
    const l = await call('vault_list', { prefix: 'app/' });
    expect(l.structuredContent.secrets.map((x: { name: string; readable: boolean }) => [x.name, x.readable])).toEqual([['app/db-password', true]]);
    const all = await call('vault_list');
    expect(JSON.stringify(all)).not.toContain(VALUE);
    expect(all.structuredContent.secrets.find((x: { name: string }) => x.name === 'other/token').readable).toBe(false);
    const g = await call('vault_get', { name: 'app/db-password' });
    expect(g.isError, g.content[0]?.text).toBeFalsy();
    expect(g.structuredContent).toEqual({ name: 'app/db-password', value: VALUE, encoding: 'utf8' });
    const no = await call('vault_get', { name: 'other/token' });
    expect(no.isError).toBe(true);
    expect(no.content[0]!.text).toContain('--vault-readable');
    expect(JSON.stringify(no)).not.toContain('nope-not-readable-99');
    const missing = await call('vault_get', { name: 'app/absent' });
    expect(missing.isError).toBe(true);
    expect(missing.content[0]!.text).toContain('app/absent');
  });

  it('key material (vssh/*, wire/*, mpop/mcp-token) is never given or changed, even when a glob allows it', async () => {
    const names = (await call('vault_list')).structuredContent.secrets.map((x: { name: string; readable: boolean }) => x);
    const keys = names.filter((x: { name: string }) => /^(vssh|wire)\//.test(x.name));
    expect(keys.length).toBeGreaterThan(0); // the fleet's vssh master lives in this vault
    for (const k of keys) {
      expect(k.readable).toBe(false);
      const g = await call('vault_get', { name: k.name });
      expect(g.isError, k.name).toBe(true);
      expect(g.structuredContent.value).toBe('');
      expect(g.content[0]!.text).toContain('key material');
    }
    for (const name of ['vssh/master', 'wire/anything', 'mpop/mcp-token']) {
      expect((await call('vault_get', { name })).content[0]!.text, name).toContain('key material');
      const s = await call('vault_set', { name, value: 'x' });
      expect(s.isError, name).toBe(true);
      expect(s.content[0]!.text).toContain('key material');
      expect((await call('vault_delete', { name })).isError, name).toBe(true);
    }
    expect((await call('vault_list')).structuredContent.secrets.length).toBe(names.length);
  });

  it('set and delete are refused without a grant; with one, delete removes the secret', async () => {
    const s = await call('vault_set', { name: 'app/refused', value: 'x1' }, bare);
    expect(s.isError).toBe(true);
    const d = await call('vault_delete', { name: 'other/token' }, bare);
    expect(d.isError).toBe(true);
    const names = () => call('vault_list').then((l) => l.structuredContent.secrets.map((x: { name: string }) => x.name));
    expect(await names()).toContain('other/token');
    expect(await names()).not.toContain('app/refused');
    const ok = await call('vault_delete', { name: 'other/token' });
    expect(ok.isError, ok.content[0]?.text).toBeFalsy();
    expect(await names()).not.toContain('other/token');
    const again = await call('vault_delete', { name: 'other/token' });
    expect(again.isError).toBe(true);
    expect(again.content[0]!.text).toContain('other/token');
  });

  it('vault_audit shows names, never values; no value in the clear in any file of the home', async () => {
    const a = await call('vault_audit', { name: 'app/db-password' });
    expect(a.isError, a.content[0]?.text).toBeFalsy();
    expect(a.structuredContent.total).toBeGreaterThanOrEqual(2);
    expect(a.structuredContent.records.every((r: { names: string[] }) => r.names.includes('app/db-password'))).toBe(true);
    const lim = await call('vault_audit', { limit: 1 });
    expect(lim.structuredContent.records).toHaveLength(1);
    const mcpLog = readFileSync(join(fleet.home, 'mpop', 'mcp-audit.jsonl'), 'utf8');
    expect(mcpLog).toContain('vault_set');
    expect(mcpLog).toContain('app/db-password');
    for (const f of everyFile(fleet.home)) expect(readFileSync(f).includes(VALUE), f).toBe(false);
  });

  it('bad argument types are tool errors; the server goes on', async () => {
    for (const [name, args] of [
      ['vault_list', { prefix: 5 }],
      ['vault_get', { name: '' }],
      ['vault_get', { name: 'x'.repeat(500) }],
      ['vault_set', { name: 'app/x', value: 12 }],
      ['vault_set', { name: 'app/x', value: 'v', tags: 'prod' }],
      ['vault_delete', {}],
      ['vault_audit', { limit: 0 }],
    ] as const) {
      const r = await call(name, args);
      expect(r.isError, `${name} ${JSON.stringify(args).slice(0, 40)}`).toBe(true);
    }
    expect((await call('vault_status')).isError).toBeFalsy();
  });
});
