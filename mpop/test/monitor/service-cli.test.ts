import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, MPOP_BIN } from '../fleet.js';

/** json parses a command's stdout. */
const json = <T = Record<string, unknown>>(r: { stdout: unknown }): T => JSON.parse(String(r.stdout)) as T;

describe('mpop install-service (the built CLI)', () => {
  let fleet: { home: string; mpop(args: string[]): ReturnType<typeof execa> };
  beforeAll(async () => {
    const { home, env } = await makeHome();
    fleet = { home, mpop: (args) => execa(process.execPath, [MPOP_BIN, ...args], { env, reject: false, stdin: 'ignore' }) };
  });
  afterAll(() => rmSync(fleet.home, { recursive: true, force: true }));

  it('install-service monitor writes a unit systemd-analyze accepts, and says there is no systemd here', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpop-unit-'));
    try {
      const r = await fleet.mpop(['install-service', 'monitor', '--interval', '1m', '--dir', dir, '--vault-key-file', '/var/lib/meshpop/vault.key', '--json']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const out = json<{ path: string; systemd: boolean; next: string; command: string }>(r);
      const unit = readFileSync(out.path, 'utf8');
      expect(unit).toContain(`ExecStart=${process.execPath} ${MPOP_BIN} monitor --interval 1m`);
      expect(unit).toContain(`Environment=MESHPOP_HOME=${fleet.home}`);
      expect(unit).toContain('Environment=SV_KEY_FILE=/var/lib/meshpop/vault.key');
      expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
      expect(unit).toMatch(/^\[Install\]\nWantedBy=multi-user.target$/m);
      expect(out.systemd).toBe(existsSync('/run/systemd/system'));
      if (!out.systemd) expect(out.next).toMatch(/systemd does not run this machine.*SV_KEY_FILE=\/var\/lib\/meshpop\/vault.key .* monitor --interval 1m/);
      const analyze = await execa('systemd-analyze', ['verify', out.path], { reject: false });
      if (analyze.exitCode !== 127 && !/not found/.test(analyze.stderr)) {
        expect(analyze.exitCode, analyze.stderr).toBe(0);
        expect(analyze.stderr.split('\n').filter((l) => l.includes('mpop-monitor.service'))).toEqual([]);
      }
      const bad = await fleet.mpop(['install-service', 'monitor', '--dir', dir, '--home', '/tmp/a b']);
      expect(bad.exitCode).toBe(2);
      expect(String(bad.stderr)).toMatch(/cannot go into a unit file/);
      const badIv = await fleet.mpop(['install-service', 'monitor', '--dir', dir, '--interval', 'x;rm']);
      expect(badIv.exitCode).toBe(2);
      for (const args of [['--target', '50%'], ['--target', 'a;b'], ['--retention', 'forever'], ['--downsample', '1h']]) {
        const r2 = await fleet.mpop(['install-service', 'monitor', '--dir', dir, ...args]);
        expect(r2.exitCode, args.join(' ')).toBe(2);
      }
      const other = await fleet.mpop(['install-service', 'dashboard', '--dir', dir]);
      expect(other.exitCode).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
