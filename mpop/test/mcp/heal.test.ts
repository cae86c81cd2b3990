import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';

/**
 * The heal toolset through the SDK's own Client against a loopback daemon and a real small filesystem (a 2 MiB
 * tmpfs, as test/heal does): a file that fills it 75% is a real disk problem under heal.yaml's 50% limit, and
 * the fix heal.yaml allows (the tmp cleaner, pointed at that tmpfs) really removes it.
 */
const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));
const HEAL_TOOLS = ['mpop_checks', 'mpop_heal_check', 'mpop_heal_fix'];
const CHECKS = ['vssh', 'disk', 'inodes', 'unit', 'mesh', 'load', 'memory', 'clock'];
const DAY = 86_400_000;
type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
const lines = (file: string): any[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

describe('mpop-mcp heal toolset over a real loopback daemon and a real small filesystem', () => {
  let fleet: Fleet;
  let client: Client;
  let bare: Client;
  let mnt: string;
  let mounted = false;
  let audit: string;
  let mcpAudit: string;
  const env = (): Record<string, string> => ({ ...(process.env as Record<string, string>), ...fleet.env });
  /** fill writes an old 1.5 MiB file into the tmpfs (75% of it), old enough for the tmp cleaner. */
  const fill = (): string => {
    mkdirSync(join(mnt, 'old'), { recursive: true });
    const f = join(mnt, 'old', 'big.bin');
    writeFileSync(f, Buffer.alloc(1536 * 1024, 1));
    utimesSync(f, new Date(Date.now() - 10 * DAY), new Date(Date.now() - 10 * DAY));
    return f;
  };
  beforeAll(async () => {
    fleet = await loopFleet(1);
    await fleet.addDown('gone1');
    mnt = mkdtempSync(join(tmpdir(), 'mpop-mcp-heal-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    mounted = true;
    audit = join(fleet.home, 'mpop', 'audit.jsonl');
    mcpAudit = join(fleet.home, 'mpop', 'mcp-audit.jsonl');
    mkdirSync(join(fleet.home, 'mpop'), { recursive: true });
    // auto: [disk] would let the CLI fix the disk unasked; mpop_heal_check must still change nothing
    writeFileSync(join(fleet.home, 'mpop', 'heal.yaml'), `thresholds:\n  disk: 50\n  load: 64\ndisk:\n  mounts: [${mnt}]\n  clean: [tmp]\n  tmpDirs: [${mnt}]\n  olderThanDays: 1\nunits:\n  ignore: [foo.service]\nauto: [disk]\n`);
    client = new Client({ name: 'heal-agent', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'heal', '--allow', 'mpop_heal_fix'], env: env() }));
    bare = new Client({ name: 'heal-bare', version: '1.0.0' });
    await bare.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'heal'], env: env() }));
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await bare?.close();
    if (mounted) await execa('umount', [mnt]);
    if (mnt) rmSync(mnt, { recursive: true, force: true });
    await fleet?.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}, c = client) => (await c.callTool({ name, arguments: args })) as R;
  const check = (r: R, node: string, name: string) => r.structuredContent.nodes.find((n: { node: string }) => n.node === node).checks.find((c: { check: string }) => c.check === name);

  it('annotations: checks reads this machine, heal_check reads the fleet, heal_fix is destructive', async () => {
    const tools = Object.fromEntries((await client.listTools()).tools.filter((t) => HEAL_TOOLS.includes(t.name)).map((t) => [t.name, t]));
    expect(Object.keys(tools).sort()).toEqual([...HEAL_TOOLS].sort());
    expect(tools.mpop_checks!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: false });
    expect(tools.mpop_heal_check!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
    expect(tools.mpop_heal_fix!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    for (const t of Object.values(tools)) for (const [f, s] of Object.entries(t.inputSchema.properties ?? {})) expect((s as { description?: string }).description, `${t.name}.${f}`).toBeTruthy();
  });

  it('mpop_checks lists every check with the settings heal.yaml gives and what each fix does', async () => {
    const r = await call('mpop_checks');
    expect(r.isError).toBeFalsy();
    const list = r.structuredContent.checks;
    expect(list.map((c: { name: string }) => c.name)).toEqual(CHECKS);
    const by = Object.fromEntries(list.map((c: { name: string }) => [c.name, c]));
    expect(by.disk.settings).toMatchObject({ 'thresholds.disk': 50, 'disk.mounts': [mnt], 'disk.clean': ['tmp'] });
    expect(by.disk.auto).toBe(true);
    expect(by.unit.settings['units.ignore']).toEqual(['foo.service']);
    expect(by.load.settings['thresholds.load']).toBe(64);
    expect(by.inodes.settings['thresholds.inodes']).toBe(90); // the default: heal.yaml says nothing of it
    for (const name of CHECKS) expect(by[name].fix === null, name).toBe(!['disk', 'unit', 'mesh'].includes(name));
    expect(by.disk.fix).toContain('disk.clean');
    expect(r.structuredContent.config).toEqual({ file: join(fleet.home, 'mpop', 'heal.yaml'), exists: true });
  });

  it('mpop_heal_check finds the real disk problem, is an error result, and fixes nothing (not even auto)', async () => {
    const big = fill();
    const r = await call('mpop_heal_check', { target: 'n1' });
    expect(r.isError).toBe(true);
    const n1 = r.structuredContent.nodes[0];
    expect(n1.checks.map((c: { check: string }) => c.check)).toEqual(CHECKS);
    for (const c of n1.checks) expect(['ok', 'warn', 'problem', 'unknown']).toContain(c.status);
    const disk = check(r, 'n1', 'disk');
    expect(disk.status).toBe('problem');
    expect(disk.diagnosis).toMatch(new RegExp(`^${mnt} is 7\\d% full .*limit 50%\\)$`));
    expect(disk.evidence.mounts[0]).toMatchObject({ mount: mnt, fs: 'tmpfs' });
    expect(disk.fix).toBeUndefined();
    expect(r.structuredContent.problems).toContainEqual({ node: 'n1', check: 'disk', diagnosis: disk.diagnosis });
    expect(check(r, 'n1', 'vssh').status).toBe('ok');
    if (!existsSync('/run/systemd/system')) expect(check(r, 'n1', 'unit')).toMatchObject({ status: 'unknown', diagnosis: expect.stringContaining('no systemd on n1') });
    expect(r.content[0]!.text).toContain('mpop_heal_fix');
    expect(existsSync(big)).toBe(true);
    expect(lines(audit)).toEqual([]);
    const only = await call('mpop_heal_check', { target: 'n1', checks: ['vssh', 'clock'] });
    expect(only.structuredContent.nodes[0].checks.map((c: { check: string }) => c.check)).toEqual(['vssh', 'clock']);
  }, 120_000);

  it('a down node is said by the vssh check, the other checks are not run there', async () => {
    const r = await call('mpop_heal_check', { target: 'n1,gone1', checks: ['vssh', 'disk'], timeoutSeconds: 20 });
    expect(r.isError).toBe(true);
    const v = check(r, 'gone1', 'vssh');
    expect(v.status).toBe('problem');
    expect(v.diagnosis).toContain("gone1's vssh daemon did not answer");
    expect(check(r, 'gone1', 'disk').status).toBe('unknown');
  }, 60_000);

  it('mpop_heal_fix without a grant is refused (nothing removed, nothing in the heal audit); a client that can ask is told the node and the fixes', async () => {
    const big = fill();
    const r = await call('mpop_heal_fix', { target: 'n1', checks: ['disk'] }, bare);
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain('--allow mpop_heal_fix');
    expect(existsSync(big)).toBe(true);
    expect(lines(audit)).toEqual([]);
    const asked: string[] = [];
    const asker = new Client({ name: 'heal-asker', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    asker.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(String(req.params.message));
      return { action: 'accept', content: { confirm: false } };
    });
    await asker.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'heal'], env: env() }));
    try {
      const no = await call('mpop_heal_fix', { target: 'n1', checks: ['disk', 'unit'] }, asker);
      expect(no.isError).toBe(true);
      expect(no.content[0]!.text).toContain('the user declined');
    } finally {
      await asker.close();
    }
    expect(asked.length).toBe(1);
    expect(asked[0]).toMatch(/^Run the heal fixes on n1 for any problem found: disk \(runs the cleaners .*\); unit \(systemctl restart .*\)\?/);
    expect(asked[0]).not.toContain('mesh');
    expect(existsSync(big)).toBe(true);
    const refused = lines(mcpAudit).filter((e) => e.tool === 'mpop_heal_fix');
    expect(refused.map((e) => e.decision)).toEqual(['refused', 'refused']);
    expect(refused.every((e) => e.targets === 'n1')).toBe(true);
  }, 60_000);

  it('mpop_heal_fix with --allow runs the allowed cleaner: the file is gone, the re-check says fixed, the heal audit has it', async () => {
    const big = fill();
    const r = await call('mpop_heal_fix', { target: 'n1', checks: ['disk'] });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(existsSync(big)).toBe(false);
    expect(r.structuredContent.fixes).toEqual([{ node: 'n1', check: 'disk', action: 'clean: tmp', result: 'fixed', detail: expect.stringMatching(/freed$/), after: { status: 'ok', diagnosis: expect.stringContaining(mnt) } }]);
    const disk = check(r, 'n1', 'disk');
    expect(disk.status).toBe('problem');
    expect(disk.fix.freedBytes).toBeGreaterThanOrEqual(1536 * 1024);
    expect(r.structuredContent.problems).toEqual([]);
    expect(r.content[0]!.text).toMatch(/^1 fix\(es\) run: n1 disk fixed/);
    const entries = lines(audit);
    expect(entries.length).toBe(1);
    expect(entries[0]).toMatchObject({ node: 'n1', check: 'disk', action: 'clean: tmp', result: 'fixed', before: { status: 'problem' }, after: { status: 'ok' } });
    const allowed = lines(mcpAudit).filter((e) => e.tool === 'mpop_heal_fix' && e.decision === 'allowed');
    expect(allowed.length).toBe(1);
    expect(allowed[0]).toMatchObject({ client: 'heal-agent', targets: 'n1', outcome: 'ok' });
    // nothing left to fix: no fix runs, nothing more in the heal audit
    const again = await call('mpop_heal_fix', { target: 'n1', checks: ['disk'] });
    expect(again.structuredContent.fixes).toEqual([]);
    expect(again.content[0]!.text).toMatch(/^no fix ran/);
    expect(lines(audit).length).toBe(1);
  }, 120_000);

  it('bad arguments are tool errors and the server keeps serving', async () => {
    for (const [name, args] of [
      ['mpop_heal_check', { target: 'n1', checks: ['nope'] }],
      ['mpop_heal_check', { target: 'n1', checks: [] }],
      ['mpop_heal_check', { target: 'no-such-node' }],
      ['mpop_heal_check', { target: 'n1', timeoutSeconds: -1 }],
      ['mpop_heal_fix', { checks: ['disk'] }],
      ['mpop_heal_fix', { target: 'n1', checks: ['disk; reboot'] }],
    ] as const) {
      const r = await call(name, args as Record<string, unknown>);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(r.structuredContent, `${name} ${JSON.stringify(args)}`).toBeUndefined();
    }
    const ok = await call('mpop_heal_check', { target: 'n1', checks: ['vssh'] });
    expect(ok.isError).toBeFalsy();
    expect(check(ok, 'n1', 'vssh').status).toBe('ok');
  }, 60_000);
});
