import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LocalVault } from '@meshpop/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet, MPOP_BIN, SV_BIN } from '../fleet.js';

describe('mpop secret and its Shamir shares over real loopback daemons', () => {
  let fleet: Fleet;
  let nodesHome: string;
  let oldHome: string | undefined;
  const shareDir = (): string => join(nodesHome, 'vault', 'shares');
  const shareFile = (node: string): string => join(shareDir(), readdirSync(shareDir()).find((f) => f.endsWith(`-${node}.share`))!);
  const audit = (): Record<string, unknown>[] => readFileSync(join(fleet.home, 'mpop', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const noPassword = (): Record<string, string> => ({ SV_PASSWORD_FILE: '' });

  beforeAll(async () => {
    // The daemons run in this process: what they run on "their node" sees this process's MESHPOP_HOME.
    nodesHome = mkdtempSync(join(tmpdir(), 'mpop-share-nodes-'));
    oldHome = process.env.MESHPOP_HOME;
    process.env.MESHPOP_HOME = nodesHome;
    fleet = await loopFleet(5);
    await fleet.addDown('down1');
  });
  afterAll(async () => {
    if (oldHome === undefined) delete process.env.MESHPOP_HOME;
    else process.env.MESHPOP_HOME = oldHome;
    await fleet?.close();
    rmSync(nodesHome, { recursive: true, force: true });
  });

  it('secret set reads stdin, get prints exactly the value, list shows names only; the value is never logged', async () => {
    const set = await fleet.mpop(['secret', 'set', 'app/db-password', '-'], { input: 'hunter2-very-secret\n' });
    expect(set.exitCode, String(set.stderr)).toBe(0);
    expect(String(set.stdout)).toBe('stored app/db-password (version 1)');
    const get = await execa(process.execPath, [MPOP_BIN, 'secret', 'get', 'app/db-password'], { env: fleet.env, stripFinalNewline: false });
    expect(get.exitCode).toBe(0);
    expect(String(get.stdout)).toBe('hunter2-very-secret');
    expect(String(get.stderr)).toBe('');
    const json = JSON.parse(String((await fleet.mpop(['secret', 'get', 'app/db-password', '--json'])).stdout));
    expect(json).toEqual({ name: 'app/db-password', value: 'hunter2-very-secret', encoding: 'utf8' });
    const list = JSON.parse(String((await fleet.mpop(['secret', 'list', '--json'])).stdout));
    expect(list.secrets.map((s: { name: string }) => s.name)).toContain('app/db-password');
    expect(JSON.stringify(list)).not.toContain('hunter2');
    // no VALUE at all: stdin too, bytes kept as they are (oclif would trim an argument it read from stdin)
    const bare = await fleet.mpop(['secret', 'set', 'app/spaced'], { input: '  two spaces around  \n' });
    expect(bare.exitCode, String(bare.stderr)).toBe(0);
    expect(String(bare.stderr)).toBe('');
    expect(JSON.parse(String((await fleet.mpop(['secret', 'get', 'app/spaced', '--json'])).stdout)).value).toBe('  two spaces around  ');
    const argv = await fleet.mpop(['secret', 'set', 'app/x', 'on-the-command-line']);
    expect(argv.exitCode).toBe(0);
    expect(String(argv.stderr)).toContain('visible to every user in ps');
    const missing = await fleet.mpop(['secret', 'get', 'app/nope']);
    expect(missing.exitCode).toBe(10);
    expect(String(missing.stderr)).toMatch(/^mpop: no secret named app\/nope/);
    expect(audit().filter((a) => a.command === 'secret set').map((a) => a.names)).toEqual([['app/db-password'], ['app/spaced'], ['app/x']]);
    expect(readFileSync(join(fleet.home, 'mpop', 'audit.jsonl'), 'utf8')).not.toContain('hunter2');
    const locked = await fleet.mpop(['secret', 'list'], { env: noPassword() });
    expect(locked.exitCode).toBe(10);
    expect(String(locked.stderr)).toContain('locked');
  });

  it('distribute refuses a down node before splitting anything, and a threshold above the node count', async () => {
    const r = await fleet.mpop(['secret', 'shares', 'distribute', 'n1,n2,down1']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/every node must take its share, and down1 \(.*\) cannot be reached; nothing was split/);
    expect(existsSync(shareDir())).toBe(false);
    const k = await fleet.mpop(['secret', 'shares', 'distribute', 'n1,n2', '--threshold', '3']);
    expect(k.exitCode).toBe(2);
    expect(String(k.stderr)).toContain('--threshold 3 must be from 2 to the number of nodes (2)');
  });

  it('distributes 3-of-5 shares: one sealed 0600 file per node, audited by node and never by value', async () => {
    const r = await fleet.mpop(['secret', 'shares', 'distribute', 'n1,n2,n3,n4,n5', '--threshold', '3', '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out).toMatchObject({ threshold: 3, count: 5, stored: ['n1', 'n2', 'n3', 'n4', 'n5'] });
    expect(statSync(shareDir()).mode & 0o777).toBe(0o700);
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) {
      const f = shareFile(n);
      expect(statSync(f).mode & 0o777).toBe(0o600);
      const text = readFileSync(f, 'utf8');
      expect(text).not.toMatch(/svs1-/); // the share itself is sealed
      expect(JSON.parse(text)).toMatchObject({ format: 'mpop-share-1', node: n, threshold: 3, count: 5 });
    }
    const a = audit().filter((x) => x.command === 'secret shares distribute' && x.ok);
    expect(a.at(-1)).toMatchObject({ nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], threshold: 3 });
    expect(JSON.stringify(audit())).not.toMatch(/svs1-|"blob"/);
  });

  it('collect from 3 rebuilds the key (check only); from 2 is a clear error naming found and needed', async () => {
    const ok = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n3,n5', '--json']);
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(JSON.parse(String(ok.stdout))).toMatchObject({ threshold: 3, found: 3, used: ['n1', 'n3', 'n5'], action: 'check' });
    const two = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n2']);
    expect(two.exitCode).toBe(1);
    expect(String(two.stderr)).toMatch(/^mpop: 2 good shares found, 3 needed to rebuild the key/);
    const one = await fleet.mpop(['secret', 'shares', 'collect', 'n4']);
    expect(String(one.stderr)).toContain('1 good share found, 3 needed to rebuild the key; the shares went to 5 nodes: add more of them to the target');
    const down = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n2,down1']);
    expect(String(down.stderr)).toMatch(/2 good shares found, 3 needed to rebuild the key; down1: /);
  });

  it('a tampered share is named and never gives a key; with a fourth good node the key is rebuilt without it', async () => {
    const f = shareFile('n2');
    const saved = readFileSync(f, 'utf8');
    const env = JSON.parse(saved);
    const blob = Buffer.from(env.blob, 'base64');
    blob[blob.length - 20]! ^= 0x01; // a bit of the sealed share
    writeFileSync(f, JSON.stringify({ ...env, blob: blob.toString('base64') }) + '\n', { mode: 0o600 });
    try {
      const three = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n2,n3']);
      expect(three.exitCode).toBe(1);
      expect(String(three.stderr)).toContain('2 good shares found, 3 needed');
      expect(String(three.stderr)).toContain('n2: the share on n2 fails its seal: it was altered');
      const four = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n2,n3,n4', '--json']);
      expect(four.exitCode, String(four.stderr)).toBe(0);
      const out = JSON.parse(String(four.stdout));
      expect(out.used).toEqual(['n1', 'n3', 'n4']);
      expect(out.warnings.join()).toContain('n2: the share on n2 fails its seal');
      // a share moved to another node is refused too
      writeFileSync(f, readFileSync(shareFile('n4')));
      const moved = await fleet.mpop(['secret', 'shares', 'collect', 'n2', '--json']);
      expect(JSON.parse(String(moved.stdout)).error.message).toContain('n2: the share on n2 was made for n4: it was moved between nodes');
      writeFileSync(f, 'not json at all\n');
      const junk = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n2']);
      expect(String(junk.stderr)).toContain('n2: the share file on n2 is not a share envelope');
    } finally {
      writeFileSync(f, saved, { mode: 0o600 });
    }
  });

  it('with the password lost: collect needs the vssh master, then sets a new password from 3 shares', async () => {
    const lost = await fleet.mpop(['secret', 'shares', 'collect', 'n2,n4,n5'], { env: noPassword() });
    expect(lost.exitCode).toBe(1);
    expect(String(lost.stderr)).toContain('pass --master-file');
    const masterFile = join(fleet.home, 'master-copy');
    writeFileSync(masterFile, Buffer.from(fleet.master).toString('base64') + '\n', { mode: 0o600 });
    const newPw = join(fleet.home, 'new-pw');
    writeFileSync(newPw, 'a brand new password\n', { mode: 0o600 });
    const r = await fleet.mpop(['secret', 'shares', 'collect', 'n2,n4,n5', '--master-file', masterFile, '--new-password-file', newPw], { env: noPassword() });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toContain('the vault has its new password');
    await expect(LocalVault.unlock({ password: 'test password' }, { home: fleet.home })).rejects.toThrow(/wrong password/);
    const v = await LocalVault.unlock({ password: 'a brand new password' }, { home: fleet.home });
    expect(await v.getString('app/db-password')).toBe('hunter2-very-secret');
    await v.close();
    writeFileSync(join(fleet.home, 'pw'), 'a brand new password\n');
    const collects = audit().filter((x) => x.command === 'secret shares collect');
    expect(collects.at(-1)).toMatchObject({ ok: true, nodes: ['n2', 'n4', 'n5'], action: 'new-password' });
    expect(collects.some((x) => x.ok === false)).toBe(true);
  });

  it('--recover unlocks the vault through its agent', async () => {
    const r = await fleet.mpop(['secret', 'shares', 'collect', 'n1,n2,n3', '--recover', '--unlock-timeout', '1m', '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.action).toBe('unlock');
    try {
      const st = await execa(process.execPath, [SV_BIN, 'status', '--json'], { env: { ...fleet.env, SV_PASSWORD_FILE: '' } });
      expect(JSON.parse(st.stdout).agent).toMatchObject({ running: true, pid: out.agentPid });
      const get = await fleet.mpop(['secret', 'get', 'app/db-password'], { env: noPassword() });
      expect(String(get.stdout)).toBe('hunter2-very-secret');
    } finally {
      await execa(process.execPath, [SV_BIN, 'lock'], { env: fleet.env, reject: false });
    }
  });
});
