import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The `wire` bin as a whole process, for what needs no network namespace (the lab tests do the rest).
const WIRE = fileURLToPath(new URL('../bin/run.js', import.meta.url));
let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'wire-cli-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const wire = (args: string[]) => {
  const r = spawnSync(process.execPath, [WIRE, ...args], { env: { ...process.env, MESHPOP_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('wire', () => {
  it('lists its commands, each with --json', () => {
    const top = wire(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['config', 'down', 'install-service', 'peers', 'ping', 'remove', 'serve', 'status', 'token', 'up']) expect(top.stdout).toContain(`  ${c} `);
    for (const c of ['serve', 'up', 'down', 'status', 'peers', 'ping', 'remove', 'config', 'token create', 'token list', 'install-service']) {
      const r = wire([...c.split(' '), '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain('--json');
    }
  });

  it('says what to do where it cannot act, with an exit code for each case', () => {
    expect(wire(['status'])).toMatchObject({ code: 3, stderr: expect.stringContaining('wire up --join TOKEN') });
    expect(wire(['token', 'create', 'g2'])).toMatchObject({ code: 8, stderr: expect.stringContaining('run this on the coordinator') });
    expect(wire(['remove', 'g2'])).toMatchObject({ code: 8 });
    const bad = wire(['up', '--join', 'not-a-token', '--json']);
    expect(bad.code).toBe(5);
    expect(JSON.parse(bad.stdout)).toEqual({ error: { code: 'WIRE_BAD_TOKEN', message: expect.stringContaining('does not start with wire1_') } });
  });

  it('install-service writes a unit that runs wire with the vault opened unattended', () => {
    const dir = join(home, 'units');
    const r = wire(['install-service', '--role', 'coordinator', '--endpoint', '203.0.113.7', '--vault-key-file', '/var/lib/meshpop/vault.key', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const unit = readFileSync(join(dir, 'wire-serve.service'), 'utf8');
    expect(unit).toContain('Environment=MESHPOP_HOME=/var/lib/meshpop');
    expect(unit).toContain('Environment=SV_KEY_FILE=/var/lib/meshpop/vault.key');
    expect(unit).toMatch(/ExecStart=\S+node \S+wire\/bin\/run\.js serve --endpoint 203\.0\.113\.7/);
    expect(unit).toContain('Restart=always');
    expect(wire(['install-service', '--role', 'node', '--dir', dir])).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot type a password') });
    expect(wire(['install-service', '--role', 'coordinator', '--vault-key-file', 'k', '--dir', dir])).toMatchObject({ code: 1, stderr: expect.stringContaining('--endpoint') });
  });
});
