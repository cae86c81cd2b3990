import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAST_KDF_FLAGS, SV_BIN, runSv, tmpHome } from './helpers.js';

// sv exec as a user runs it: the built bin, real child processes.

let t: ReturnType<typeof tmpHome>;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  t = tmpHome('pw');
  env = { MESHPOP_HOME: t.home, SV_PASSWORD_FILE: t.pwFile };
  expect((await runSv(['init', '--shares', '0', ...FAST_KDF_FLAGS], { env })).code).toBe(0);
});
afterEach(async () => {
  await runSv(['lock'], { env });
  t.cleanup();
});

describe('sv exec', () => {
  it('--only is what the command gets: no variable that opens the vault, unless --inherit-vault', async () => {
    await runSv(['set', 'app/token'], { env, input: 'tok-aaaa-1111' });
    await runSv(['set', 'other/secret'], { env, input: 'other-zzzz-9999' });
    const script = `echo "[\${SV_PASSWORD_FILE:-none}] [\${MESHPOP_HOME:-none}] [\${OTHER_SECRET:-none}] $APP_TOKEN"; ${process.execPath} ${SV_BIN} get other/secret; echo "rc=$?"`;
    const r = await runSv(['exec', '--only', 'app/token', '--', 'sh', '-c', script], { env: { ...env, HOME: t.home } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[none\] \[none\] \[none\] \*\*\*\*\*\n/);
    expect(r.stdout).toMatch(/rc=(3|7)\n$/);
    expect(r.stdout + r.stderr).not.toContain('other-zzzz-9999');
    const inherit = await runSv(['exec', '--only', 'app/token', '--inherit-vault', '--', 'sh', '-c', 'echo "[$MESHPOP_HOME]"'], { env });
    expect(inherit.stdout).toBe(`[${t.home}]\n`);
  });

  it('hands the command no descriptor of the agent when it reads through one', async () => {
    await runSv(['set', 'app/token'], { env, input: 'tok-aaaa-1111' });
    expect((await runSv(['unlock'], { env })).code).toBe(0);
    const r = await runSv(['exec', '--', 'ls', '-l', '/proc/self/fd/'], { env: { MESHPOP_HOME: t.home } });
    expect(r.code, r.stderr).toBe(0);
    // stdin, stdout and stderr are Node's socketpairs; any other socket would be a way back to the agent.
    const sockets = r.stdout.split('\n').filter((l) => / (\d+) -> socket:/.exec(l) && !/ [012] -> socket:/.test(l));
    expect(sockets, r.stdout).toEqual([]);
    expect(r.stdout).toMatch(/ 1 -> socket:/);
    expect(r.stdout).not.toContain('agent.sock');
  });

  it('skips values an environment variable cannot hold, naming them, never printing them', async () => {
    await runSv(['set', 'ok/one'], { env, input: 'plain-value-1' });
    writeFileSync(join(t.home, 'nul'), Buffer.from('nul\0secret-42'));
    await runSv(['set', 'bad/nul', '--from-file', join(t.home, 'nul')], { env });
    writeFileSync(join(t.home, 'latin1'), Buffer.from([0x70, 0x61, 0x73, 0x73, 0xe9, 0xff, 0x21, 0x21]));
    await runSv(['set', 'bad/latin1', '--from-file', join(t.home, 'latin1')], { env });
    const r = await runSv(['exec', '--', 'true'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('bad/nul is not in the environment');
    expect(r.stderr).toContain('bad/latin1 is not in the environment');
    expect(r.stderr).not.toContain('secret-42');
    const shown = await runSv(['exec', '--', 'sh', '-c', 'printf "%s|%s|%s" "$OK_ONE" "${BAD_NUL:-unset}" "${BAD_LATIN1:-unset}"'], { env });
    expect(shown.stdout).toBe('*****|unset|unset');
    // A value the command finds some other way is still masked as the bytes it is.
    const raw = await runSv(['exec', '--', 'cat', join(t.home, 'latin1')], { env });
    expect(raw.stdout).not.toContain('pass');
  });
});
