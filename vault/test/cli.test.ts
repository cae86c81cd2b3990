import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAST_KDF_FLAGS, Run, SV_BIN, runSv, tmpHome } from './helpers.js';

// Every `sv` command, run from the built bin as a whole process, as a user runs it.

let t: ReturnType<typeof tmpHome>;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  t = tmpHome('pw one');
  env = { MESHPOP_HOME: t.home, SV_PASSWORD_FILE: t.pwFile };
});
afterEach(async () => {
  await runSv(['lock'], { env });
  t.cleanup();
});

const json = <T = any>(r: Run): T => {
  expect(r.stderr, r.stderr).toBe('');
  return JSON.parse(r.stdout) as T;
};

async function init(extra: string[] = []): Promise<{ shares: string[] }> {
  const r = await runSv(['init', ...FAST_KDF_FLAGS, ...extra, '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  return json(r);
}

describe('sv', () => {
  it('init, set, get, list, rm with --json, and exit codes for each failure', async () => {
    const { shares } = await init();
    expect(shares).toHaveLength(5);
    expect((await runSv(['set', 'db/password', '--tag', 'prod', '--tag', 'pg'], { env, input: 'hunter2\n' })).code).toBe(0);
    writeFileSync(join(t.home, 'bin'), Buffer.from([0, 1, 2, 0xff]));
    expect((await runSv(['set', 'bin/blob', '--from-file', join(t.home, 'bin'), '--category', 'blobs'], { env })).code).toBe(0);

    const get = await runSv(['get', 'db/password'], { env });
    expect(get).toMatchObject({ code: 0, stdout: 'hunter2' });
    expect(json(await runSv(['get', 'bin/blob', '--json'], { env }))).toEqual({ name: 'bin/blob', value: Buffer.from([0, 1, 2, 0xff]).toString('base64'), encoding: 'base64' });
    const list = json<any[]>(await runSv(['list', '--json'], { env }));
    expect(list.map((s) => [s.name, s.category, s.tags])).toEqual([['bin/blob', 'blobs', []], ['db/password', 'db', ['prod', 'pg']]]);
    expect(JSON.stringify(list)).not.toContain('hunter2');
    const human = await runSv(['list'], { env });
    expect(human.stdout).toMatch(/^NAME\s+CATEGORY\s+TAGS\s+VERSION\s+UPDATED\n/);
    expect(human.stdout).toContain('prod,pg');

    const missing = await runSv(['get', 'nope'], { env });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe('sv: no secret named nope; `sv list` shows the names there are.\n');
    const missingJson = await runSv(['get', 'nope', '--json'], { env });
    expect(missingJson.code).toBe(4);
    expect(JSON.parse(missingJson.stdout)).toEqual({ error: { code: 'VAULT_NOT_FOUND', message: expect.stringContaining('nope') } });

    expect((await runSv(['rm', 'db/password'], { env })).code).toBe(0);
    expect((await runSv(['rm', 'db/password'], { env })).code).toBe(4);
    expect((await runSv(['set', 'bad name'], { env, input: 'x' })).stderr).toContain('not a valid secret name');

    writeFileSync(t.pwFile, 'wrong\n');
    const bad = await runSv(['get', 'bin/blob'], { env });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain('wrong password');
    const locked = await runSv(['get', 'bin/blob'], { env: { MESHPOP_HOME: t.home } });
    expect(locked.code).toBe(3);
    expect(locked.stderr).toContain('sv unlock');
    const none = await runSv(['list'], { env: { MESHPOP_HOME: join(t.home, 'elsewhere') } });
    expect(none.code).toBe(7);
    expect(none.stderr).toContain('sv init');
  });

  it('never takes a value from an argument, and never quotes one back', async () => {
    await init(['--shares', '0']);
    const r = await runSv(['set', 'app/x', 'MySecret123'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('never takes a value from an argument');
    const j = await runSv(['set', 'app/x', 'MySecret123', '--json'], { env });
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'VAULT_USAGE', message: expect.stringContaining('Nothing was stored') } });
    const others = [
      await runSv(['set', 'app/x', '--bogus=MySecret123'], { env }),
      await runSv(['get', 'app/x', 'MySecret123'], { env }),
      await runSv(['split', '--shares', 'MySecret123'], { env }),
      await runSv(['set', 'My Secret123'], { env, input: 'v' }),
      await runSv(['set', 'app/x', '-MySecret123'], { env }),
      await runSv(['set', 'app/x', '--MySecret123'], { env }),
    ];
    for (const o of others) expect(o.code, o.stderr).not.toBe(0);
    expect(others[0]!.stderr).toContain('--bogus');
    for (const o of [r, j, ...others]) expect(o.stdout + o.stderr).not.toContain('MySecret123');
    expect(readFileSync(join(t.home, 'vault', 'audit.jsonl'), 'utf8')).not.toContain('MySecret123');
    expect((await runSv(['list', '--json'], { env })).stdout).toBe('[]\n');
  });

  it('unlock takes long timeouts (30d stays unlocked) and refuses ones past 366d', async () => {
    await init(['--shares', '0']);
    await runSv(['set', 'k'], { env, input: 'v1' });
    expect((await runSv(['unlock', '--timeout', '400d'], { env })).code).toBe(2);
    const u = json(await runSv(['unlock', '--timeout', '30d', '--json'], { env }));
    expect(u).toMatchObject({ idleMs: 30 * 86_400_000 });
    await new Promise((r) => setTimeout(r, 500));
    const noPw = { MESHPOP_HOME: t.home };
    expect(json(await runSv(['status', '--json'], { env: noPw }))).toMatchObject({ agent: { running: true, pid: u.pid } });
    expect(await runSv(['get', 'k'], { env: noPw })).toMatchObject({ code: 0, stdout: 'v1' });
  });

  it('unlock lets later commands run without a password; lock ends that; status tells which', async () => {
    await init(['--shares', '0']);
    await runSv(['set', 'k'], { env, input: 'v1' });
    const noPw = { MESHPOP_HOME: t.home };
    expect(json(await runSv(['status', '--json'], { env: noPw }))).toMatchObject({ initialized: true, secrets: 1, agent: { running: false }, unlockWith: ['password'] });
    const u = json(await runSv(['unlock', '--timeout', '5m', '--json'], { env }));
    expect(u).toMatchObject({ unlocked: true, idleMs: 300_000, alreadyRunning: false });
    expect(await runSv(['get', 'k'], { env: noPw })).toMatchObject({ code: 0, stdout: 'v1' });
    expect((await runSv(['set', 'k2'], { env: noPw, input: 'v2' })).code).toBe(0);
    expect(json(await runSv(['status', '--json'], { env: noPw }))).toMatchObject({ secrets: 2, agent: { running: true, pid: u.pid } });
    expect(json(await runSv(['unlock', '--json'], { env }))).toMatchObject({ alreadyRunning: true, pid: u.pid });
    expect(json(await runSv(['lock', '--json'], { env: noPw }))).toMatchObject({ wasUnlocked: true });
    expect((await runSv(['get', 'k'], { env: noPw })).code).toBe(3);
    expect(json(await runSv(['lock', '--json'], { env: noPw }))).toMatchObject({ wasUnlocked: false });
    const ops = json<{ entries: { op: string; via: string }[] }>(await runSv(['audit', '--json'], { env: noPw })).entries.map((e) => `${e.op}/${e.via}`);
    expect(ops).toEqual(['init/local', 'set/local', 'unlock/local', 'get/agent', 'set/agent', 'lock/agent']);
  });

  it('exec injects secrets, masks them in the output, and passes the exit code through', async () => {
    await init(['--shares', '0']);
    await runSv(['set', 'db/password'], { env, input: 's3cr3t-pa55' });
    await runSv(['set', 'api.token'], { env, input: 'tok-123456' });
    const r = await runSv(['exec', '--', 'sh', '-c', 'echo "db=$DB_PASSWORD api=$API_TOKEN"; echo "err $DB_PASSWORD" >&2; exit 7'], { env });
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('db=***** api=*****\n');
    expect(r.stderr).toBe('err *****\n');
    const only = await runSv(['exec', '--only', 'api.token', '--', 'sh', '-c', 'echo "[${DB_PASSWORD:-unset}] $API_TOKEN"'], { env });
    expect(only).toMatchObject({ code: 0, stdout: '[unset] *****\n' });
    const j = json(await runSv(['exec', '--json', '--', 'sh', '-c', 'printf %s "$API_TOKEN"'], { env }));
    expect(j).toMatchObject({ exitCode: 0, stdout: '*****', injected: expect.arrayContaining([{ name: 'api.token', env: 'API_TOKEN' }]) });
    const sig = await runSv(['exec', '--', 'sh', '-c', 'kill -TERM $$'], { env });
    expect(sig.code).toBe(143);
    const nf = await runSv(['exec', '--', 'no-such-command-here'], { env });
    expect(nf.code).toBe(1);
    expect(nf.stderr).toContain('command not found: no-such-command-here');
  });

  it('passwd, split, recover (unlock and reset), rekey invalidating old shares', async () => {
    const { shares } = await init(['--shares', '5', '--threshold', '3']);
    await runSv(['set', 'x'], { env, input: 'value-x' });
    const newPw = join(t.home, 'newpw');
    writeFileSync(newPw, 'pw two\n');
    expect((await runSv(['passwd', '--kdf-memory', '128'], { env: { ...env, SV_NEW_PASSWORD_FILE: newPw } })).code).toBe(0);
    expect((await runSv(['get', 'x'], { env })).code).toBe(5);
    env.SV_PASSWORD_FILE = newPw;
    expect(await runSv(['get', 'x'], { env })).toMatchObject({ code: 0, stdout: 'value-x' });
    expect(json(await runSv(['status', '--json'], { env })).kdf).toMatchObject({ memoryKiB: 128 });

    const noPw = { MESHPOP_HOME: t.home };
    const two = await runSv(['recover'], { env: noPw, input: shares.slice(0, 2).join('\n') });
    expect(two.code).toBe(1);
    expect(two.stderr).toContain('2 share(s) given, 3 needed');
    expect(json(await runSv(['recover', '--json'], { env: noPw, input: shares.slice(2).join('\n') }))).toMatchObject({ action: 'unlocked' });
    expect(await runSv(['get', 'x'], { env: noPw })).toMatchObject({ code: 0, stdout: 'value-x' });
    await runSv(['lock'], { env: noPw });

    const third = join(t.home, 'pw3');
    writeFileSync(third, 'pw three');
    const shareFile = join(t.home, 'shares');
    writeFileSync(shareFile, [shares[0], shares[2], shares[4]].join('\n'));
    expect(json(await runSv(['recover', '--reset-password', '--share-file', shareFile, '--json'], { env: { ...noPw, SV_NEW_PASSWORD_FILE: third } }))).toMatchObject({ action: 'password-reset' });
    env.SV_PASSWORD_FILE = third;
    expect((await runSv(['get', 'x'], { env })).stdout).toBe('value-x');

    const extra = json<{ shares: string[] }>(await runSv(['split', '--shares', '3', '--threshold', '2', '--json'], { env }));
    expect(extra.shares).toHaveLength(3);
    const rk = json<{ shares: string[] }>(await runSv(['rekey', '--json'], { env }));
    expect(rk.shares).toHaveLength(3); // as the last split
    const old = await runSv(['recover'], { env: noPw, input: shares.slice(0, 3).join('\n') });
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('earlier master key');
    expect(json(await runSv(['recover', '--json'], { env: noPw, input: rk.shares.slice(0, 2).join('\n') }))).toMatchObject({ action: 'unlocked' });
    expect((await runSv(['get', 'x'], { env: noPw })).stdout).toBe('value-x');
  });

  it('verify and audit --verify pass on a good vault and fail on a damaged one', async () => {
    await init(['--shares', '0']);
    await runSv(['set', 'a'], { env, input: 'alpha' });
    expect(json(await runSv(['verify', '--json'], { env }))).toMatchObject({ ok: true, secrets: 1 });
    expect(json(await runSv(['audit', '--verify', '--json'], { env }))).toMatchObject({ report: { ok: true } });
    const audit = join(t.home, 'vault', 'audit.jsonl');
    writeFileSync(audit, readFileSync(audit, 'utf8').replace('"op":"set"', '"op":"get"'));
    const broken = await runSv(['audit', '--verify'], { env });
    expect(broken.code).toBe(6);
    expect(broken.stderr).toContain('broken at line 2');
    const store = join(t.home, 'vault', 'store.sv');
    const bytes = readFileSync(store);
    bytes[20]! ^= 1;
    writeFileSync(store, bytes);
    const v = await runSv(['verify'], { env });
    expect(v.code).toBe(6);
    expect(v.stderr).toContain('damaged');
    expect(json(await runSv(['status', '--json'], { env })).damaged).toContain('checksum');
  });

  it('export and import an encrypted bundle between two vaults', async () => {
    await init(['--shares', '0']);
    await runSv(['set', 'a/one', '--tag', 't1'], { env, input: 'first' });
    await runSv(['set', 'b/two'], { env, input: 'second' });
    const bundlePw = join(t.home, 'bundle-pw');
    writeFileSync(bundlePw, 'bundle pass');
    const out = join(t.home, 'backup.svx');
    expect(json(await runSv(['export', '-o', out, '--password-file', bundlePw, '--json'], { env }))).toMatchObject({ names: ['a/one', 'b/two'] });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out).subarray(0, 4).toString()).toBe('SV01');
    expect(readFileSync(out).includes(Buffer.from('second'))).toBe(false);
    expect((await runSv(['export', '-o', out, '--password-file', bundlePw], { env })).stderr).toContain('--force');

    const other = tmpHome('other');
    try {
      const env2 = { MESHPOP_HOME: other.home, SV_PASSWORD_FILE: other.pwFile };
      await runSv(['init', '--shares', '0', ...FAST_KDF_FLAGS], { env: env2 });
      await runSv(['set', 'b/two'], { env: env2, input: 'mine' });
      const wrong = join(t.home, 'wrong');
      writeFileSync(wrong, 'nope');
      expect((await runSv(['import', out, '--password-file', wrong], { env: env2 })).code).toBe(5);
      expect(json(await runSv(['import', out, '--password-file', bundlePw, '--json'], { env: env2 }))).toMatchObject({ skipped: ['b/two'] });
      expect((await runSv(['get', 'b/two'], { env: env2 })).stdout).toBe('mine');
      expect((await runSv(['get', 'a/one'], { env: env2 })).stdout).toBe('first');
      expect(json<any[]>(await runSv(['list', '--json'], { env: env2 })).find((s) => s.name === 'a/one').tags).toEqual(['t1']);
      await runSv(['import', out, '--password-file', bundlePw, '--overwrite'], { env: env2 });
      expect((await runSv(['get', 'b/two'], { env: env2 })).stdout).toBe('second');
    } finally {
      other.cleanup();
    }
  });

  it('encrypt-file and decrypt-file round-trip, bound to the file name', async () => {
    const pw = join(t.home, 'file-pw');
    writeFileSync(pw, 'file pass');
    const src = join(t.home, 'notes.txt');
    writeFileSync(src, 'dear diary');
    expect((await runSv(['encrypt-file', src, '--password-file', pw], { env })).code).toBe(0);
    expect(existsSync(`${src}.vault`)).toBe(true);
    expect((await runSv(['decrypt-file', `${src}.vault`, '--password-file', pw], { env })).stderr).toContain('exists');
    const out = join(t.home, 'out.txt');
    expect(json(await runSv(['decrypt-file', `${src}.vault`, '--password-file', pw, '-o', out, '--json'], { env }))).toMatchObject({ context: 'file', bytes: 10 });
    expect(readFileSync(out, 'utf8')).toBe('dear diary');
    const renamed = join(t.home, 'other.txt.vault');
    writeFileSync(renamed, readFileSync(`${src}.vault`));
    const wrongName = await runSv(['decrypt-file', renamed, '--password-file', pw], { env });
    expect(wrongName.code).toBe(5);
    expect(existsSync(join(t.home, 'other.txt'))).toBe(false);
    expect((await runSv(['decrypt-file', renamed, '--name', 'notes.txt', '-o', join(t.home, 'n2'), '--password-file', pw], { env })).code).toBe(0);
    const key = join(t.home, 'raw.key');
    writeFileSync(key, 'ab'.repeat(32));
    await runSv(['encrypt-file', src, '--raw-key-file', key, '-o', join(t.home, 'raw.vault')], { env });
    expect(readFileSync(join(t.home, 'raw.vault')).subarray(5, 37).every((b) => b === 0)).toBe(true);
    expect((await runSv(['decrypt-file', join(t.home, 'raw.vault'), '--name', 'notes.txt', '--raw-key-file', key, '-o', join(t.home, 'n3')], { env })).code).toBe(0);
    expect(readFileSync(join(t.home, 'n3'), 'utf8')).toBe('dear diary');
  });

  it('init with a key file; unlock with it', async () => {
    const key = join(t.home, 'vault.key');
    expect((await init(['--shares', '0', '--key-file', key])) as any).toMatchObject({ keyFile: { path: key, created: true } });
    await runSv(['set', 'a'], { env, input: 'A' });
    const noPw = { MESHPOP_HOME: t.home };
    expect((await runSv(['unlock', '--key-file', key], { env: noPw })).code).toBe(0);
    expect((await runSv(['get', 'a'], { env: noPw })).stdout).toBe('A');
    await runSv(['lock'], { env: noPw });
    expect((await runSv(['get', 'a'], { env: { ...noPw, SV_KEY_FILE: key } })).stdout).toBe('A');
  });

  it('asks for passwords and values on a real terminal without echoing them', async () => {
    // script(1) gives the command a pseudo-terminal; each answer is typed after its prompt is up.
    const onTty = (args: string, answers: string[]): string => {
      const typed = answers.map((a) => `sleep 2; printf '%s\\r' '${a}'`).join('; ');
      const r = spawnSync('sh', ['-c', `(${typed}) | script -q -c "${process.execPath} ${SV_BIN} ${args}" /dev/null`], {
        env: { ...process.env, MESHPOP_HOME: t.home, SV_PASSWORD_FILE: '' },
        encoding: 'utf8',
      });
      return r.stdout;
    };
    const init = onTty(`init --shares 0 ${FAST_KDF_FLAGS.join(' ')}`, ['tty-pw-1', 'tty-pw-1']);
    expect(init).toContain('New vault password (again):');
    expect(init).toContain('Vault created');
    const set = onTty('set tty/secret', ['tty-value-9', 'tty-pw-1']);
    expect(set).toContain('Value for tty/secret:');
    expect(set).toContain('Stored tty/secret');
    expect(set).not.toContain('tty-value-9');
    expect(set).not.toContain('tty-pw-1');
    const get = onTty('get tty/secret', ['tty-pw-1']);
    expect(get).toMatch(/Vault password: \r?\ntty-value-9\r?\n/);
  });

  it('answers --help for the CLI and every command', async () => {
    const top = await runSv(['--help']);
    expect(top.code).toBe(0);
    const commands = ['audit', 'decrypt-file', 'encrypt-file', 'exec', 'export', 'get', 'import', 'init', 'list', 'lock', 'passwd', 'recover', 'rekey', 'rm', 'set', 'split', 'status', 'unlock', 'verify'];
    for (const c of commands) expect(top.stdout).toContain(`  ${c} `);
    for (const c of commands) {
      const r = await runSv([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain('--json');
    }
  });
});
