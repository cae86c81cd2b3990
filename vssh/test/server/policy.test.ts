import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsshError } from '../../src/errors.js';
import { Policy, PolicyRefusal, loadPolicy, type PolicyRules } from '../../src/server/policy.js';
import { codeOf } from '../helpers.js';

/** refusal runs `fn` and returns the PolicyRefusal it throws, failing the test when it throws anything else. */
function refusal(fn: () => unknown): PolicyRefusal {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolicyRefusal) return err;
    throw err;
  }
  throw new Error('expected a PolicyRefusal, nothing was thrown');
}

/** refusalOf awaits `p` and returns the PolicyRefusal it rejects with. */
async function refusalOf(p: Promise<unknown>): Promise<PolicyRefusal> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (err instanceof PolicyRefusal) return err;
  throw err ?? new Error('expected a PolicyRefusal, the promise resolved');
}

/** badInputOf awaits `p` and returns the message of the VSSH_BAD_INPUT it rejects with. */
async function badInputOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (err instanceof VsshError && err.code === 'VSSH_BAD_INPUT' && !(err instanceof PolicyRefusal)) return err.message;
  throw err ?? new Error('expected VSSH_BAD_INPUT, the promise resolved');
}

describe('exec rules', () => {
  const p = new Policy({ allowCommands: ['ls', 'df', '/usr/bin/uptime'] });

  it('allows listed commands, a bare entry by basename, an absolute entry only at that path', () => {
    expect(() => p.checkExec({ argv: ['df', '-h'] })).not.toThrow();
    expect(() => p.checkExec({ argv: ['/bin/df'] })).not.toThrow();
    expect(() => p.checkExec({ argv: ['/usr/bin/uptime'] })).not.toThrow();
    expect(refusal(() => p.checkExec({ argv: ['uptime'] })).rule).toBe('allowCommands');
    expect(refusal(() => p.checkExec({ argv: ['/tmp/uptime'] })).rule).toBe('allowCommands');
    // a relative path depends on the cwd: it does not borrow a bare entry
    expect(refusal(() => p.checkExec({ argv: ['./df'] })).rule).toBe('allowCommands');
    // nor does the same name in a folder a put could fill
    expect(refusal(() => p.checkExec({ argv: ['/srv/df'] })).rule).toBe('allowCommands');
  });

  it('refuses environment that would change which program an allowed name runs', () => {
    expect(refusal(() => p.checkExec({ argv: ['df'], env: { PATH: '/srv' } })).rule).toBe('allowCommands');
    expect(refusal(() => p.checkExec({ argv: ['df'], env: { LD_PRELOAD: '/srv/x.so' } })).message).toContain('LD_PRELOAD');
    expect(() => p.checkExec({ argv: ['df'], env: { LANG: 'C' } })).not.toThrow();
    expect(() => Policy.open.checkExec({ argv: ['df'], env: { PATH: '/srv' } })).not.toThrow();
  });

  it('names the rule, the command and the allowed ones when it refuses', () => {
    const r = refusal(() => p.checkExec({ argv: ['rm', '-rf', '/'] }));
    expect(r.code).toBe('VSSH_POLICY');
    expect(r).toBeInstanceOf(VsshError);
    expect(r.message).toBe('refused by policy (allowCommands): `rm` is not an allowed command; allowed: ls, df, /usr/bin/uptime');
  });

  it('refuses shell strings once allowCommands is set, unless allowShell says otherwise', () => {
    const r = refusal(() => p.checkExec({ shell: 'df -h | tail -1' }));
    expect(r.rule).toBe('allowShell');
    expect(r.message).toMatch(/^refused by policy \(allowShell\): shell strings are refused; send argv with one of: ls, df/);
    expect(() => new Policy({ allowCommands: ['df'], allowShell: true }).checkExec({ shell: 'df' })).not.toThrow();
    expect(() => Policy.open.checkExec({ shell: 'rm -rf /tmp/x' })).not.toThrow();
    expect(() => Policy.open.checkExec({ argv: ['anything'] })).not.toThrow();
    expect(refusal(() => new Policy({ allowShell: false }).checkExec({ shell: 'ls' })).rule).toBe('allowShell');
  });

  it('read-only: no exec without allowCommands; only listed commands and never shell with it', () => {
    const bare = new Policy({ readOnly: true });
    const r = refusal(() => bare.checkExec({ argv: ['ls'] }));
    expect(r.rule).toBe('readOnly');
    expect(r.message).toMatch(/^refused by policy \(readOnly\): `ls` is refused/);
    const listed = new Policy({ readOnly: true, allowCommands: ['df'], allowShell: true });
    expect(() => listed.checkExec({ argv: ['df'] })).not.toThrow();
    expect(refusal(() => listed.checkExec({ argv: ['ls'] })).rule).toBe('allowCommands');
    expect(refusal(() => listed.checkExec({ shell: 'df' })).rule).toBe('readOnly');
  });

  it('calls a malformed request bad input, not a refusal', () => {
    expect(codeOf(() => p.checkExec({}))).toBe('VSSH_BAD_INPUT');
    expect(codeOf(() => p.checkExec({ argv: [] }))).toBe('VSSH_BAD_INPUT');
    expect(codeOf(() => p.checkExec({ argv: ['df'], shell: 'df' }))).toBe('VSSH_BAD_INPUT');
  });
});

describe('timeouts, sizes and tunnels', () => {
  it('clampTimeout gives the ceiling by default and refuses more than it', () => {
    const p = new Policy({ maxTimeoutMs: 600_000 });
    expect(p.clampTimeout(undefined)).toBe(600_000);
    expect(p.clampTimeout(5_000)).toBe(5_000);
    expect(p.clampTimeout(600_000)).toBe(600_000);
    const r = refusal(() => p.clampTimeout(900_000));
    expect(r.rule).toBe('maxTimeoutMs');
    expect(r.message).toBe('refused by policy (maxTimeoutMs): a timeout of 900000 ms is above the ceiling of 600000 ms');
    expect(Policy.open.clampTimeout(undefined)).toBeUndefined();
    expect(Policy.open.clampTimeout(1e9)).toBe(1e9);
    expect(codeOf(() => p.clampTimeout(-1))).toBe('VSSH_BAD_INPUT');
  });

  it('checkFileSize refuses a file above maxFileBytes', () => {
    const p = new Policy({ maxFileBytes: 1024 });
    expect(() => p.checkFileSize(1024)).not.toThrow();
    const r = refusal(() => p.checkFileSize(1025));
    expect(r.rule).toBe('maxFileBytes');
    expect(r.message).toBe('refused by policy (maxFileBytes): a file of 1025 bytes is larger than the limit of 1024 bytes');
    expect(() => Policy.open.checkFileSize(2 ** 40)).not.toThrow();
  });

  it('checkTunnel matches host:port and host:*; [] allows none', () => {
    const p = new Policy({ allowTunnels: ['127.0.0.1:80', 'localhost:*', '[::1]:443'] });
    expect(() => p.checkTunnel('127.0.0.1', 80)).not.toThrow();
    expect(() => p.checkTunnel('localhost', 5432)).not.toThrow();
    expect(() => p.checkTunnel('::1', 443)).not.toThrow();
    const r = refusal(() => p.checkTunnel('127.0.0.1', 22));
    expect(r.rule).toBe('allowTunnels');
    expect(r.message).toBe('refused by policy (allowTunnels): a tunnel to 127.0.0.1:22 is not allowed; allowed: 127.0.0.1:80, localhost:*, [::1]:443');
    expect(refusal(() => p.checkTunnel('10.0.0.5', 80)).rule).toBe('allowTunnels');
    expect(refusal(() => new Policy({ allowTunnels: [] }).checkTunnel('127.0.0.1', 80)).message).toMatch(/allowed: none$/);
    expect(() => Policy.open.checkTunnel('10.0.0.5', 22)).not.toThrow();
  });
});

describe('paths', () => {
  // root/allowed, root/other (also allowed), root/outside (not), and symlinks between them
  let root: string;
  let allowed: string;
  let other: string;
  let outside: string;
  let policy: Policy;

  beforeAll(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vssh-policy-')));
    allowed = path.join(root, 'allowed');
    other = path.join(root, 'other');
    outside = path.join(root, 'outside');
    for (const d of [allowed, other, outside]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(allowed, 'ok.txt'), 'ok');
    fs.writeFileSync(path.join(other, 'also.txt'), 'also');
    fs.writeFileSync(path.join(outside, 'secret'), 'secret');
    fs.symlinkSync(outside, path.join(allowed, 'escape'));
    fs.symlinkSync(path.join(outside, 'secret'), path.join(allowed, 'secret-link'));
    fs.symlinkSync(other, path.join(allowed, 'to-other'));
    fs.symlinkSync(path.join(outside, 'not-yet'), path.join(allowed, 'dangling'));
    fs.mkdirSync(path.join(root, 'allowedx'));
    fs.mkdirSync(path.join(allowed, 'a-dir'));
    policy = new Policy({ allowPaths: [allowed, other] });
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('allows and returns real paths inside an allowed prefix', async () => {
    expect(await policy.checkPath(path.join(allowed, 'ok.txt'), 'read')).toBe(path.join(allowed, 'ok.txt'));
    expect(await policy.checkPath(allowed, 'read')).toBe(allowed);
    expect(await policy.checkPath(`${allowed}//./a-dir/../ok.txt`, 'write')).toBe(path.join(allowed, 'ok.txt'));
  });

  it('refuses `..` traversal out of an allowed prefix, naming where it really leads', async () => {
    const r = await refusalOf(policy.checkPath(`${allowed}/../outside/secret`, 'read'));
    expect(r.rule).toBe('allowPaths');
    expect(r.message).toBe(
      `refused by policy (allowPaths): ${allowed}/../outside/secret (really ${outside}/secret) is outside the allowed paths; allowed: ${allowed}, ${other}`,
    );
    const deep = `${allowed}${'/..'.repeat(20)}/etc/passwd`;
    expect((await refusalOf(policy.checkPath(deep, 'read'))).rule).toBe('allowPaths');
  });

  it('matches prefixes on whole segments: /allowed does not allow /allowedx', async () => {
    expect((await refusalOf(policy.checkPath(path.join(root, 'allowedx'), 'read'))).rule).toBe('allowPaths');
    expect((await refusalOf(policy.checkPath(path.join(root, 'allowedx', 'new'), 'write'))).rule).toBe('allowPaths');
  });

  it('follows symlinks: out of the allowed places is refused, into another allowed place is allowed', async () => {
    expect((await refusalOf(policy.checkPath(path.join(allowed, 'escape', 'secret'), 'read'))).rule).toBe('allowPaths');
    expect((await refusalOf(policy.checkPath(path.join(allowed, 'escape'), 'read'))).rule).toBe('allowPaths');
    expect((await refusalOf(policy.checkPath(path.join(allowed, 'secret-link'), 'read'))).rule).toBe('allowPaths');
    expect(await policy.checkPath(path.join(allowed, 'to-other', 'also.txt'), 'read')).toBe(path.join(other, 'also.txt'));
    // `..` after a symlink goes up from where the link leads, as the kernel does
    expect((await refusalOf(policy.checkPath(path.join(allowed, 'to-other') + '/../outside/secret', 'read'))).rule).toBe('allowPaths');
  });

  it('places a not-yet-existing target under its deepest existing ancestor', async () => {
    expect(await policy.checkPath(path.join(allowed, 'a', 'b', 'new.txt'), 'write')).toBe(path.join(allowed, 'a', 'b', 'new.txt'));
    expect(await policy.checkPath(path.join(allowed, 'to-other', 'a', 'new.txt'), 'write')).toBe(path.join(other, 'a', 'new.txt'));
    const r = await refusalOf(policy.checkPath(path.join(allowed, 'escape', 'a', 'new.txt'), 'write'));
    expect(r.rule).toBe('allowPaths');
    expect(r.message).toContain(`(really ${outside}/a/new.txt)`);
    // a dangling symlink is where a write would land: its target counts
    expect((await refusalOf(policy.checkPath(path.join(allowed, 'dangling'), 'write'))).rule).toBe('allowPaths');
    // `..` below a directory that does not exist cannot be resolved
    expect(await badInputOf(policy.checkPath(`${allowed}/nope/../../outside/x`, 'write'))).toMatch(/`\.\.` after/);
  });

  it('refuses writes on a read-only node, and relative paths as bad input', async () => {
    const ro = new Policy({ readOnly: true, allowPaths: [allowed] });
    expect(await ro.checkPath(path.join(allowed, 'ok.txt'), 'read')).toBe(path.join(allowed, 'ok.txt'));
    const r = await refusalOf(ro.checkPath(path.join(allowed, 'ok.txt'), 'write'));
    expect(r.rule).toBe('readOnly');
    expect(r.message).toMatch(/^refused by policy \(readOnly\): writing .*ok\.txt is refused: this node is read-only$/);
    expect(await badInputOf(policy.checkPath('allowed/ok.txt', 'read'))).toMatch(/must be absolute/);
  });

  it('resolves the allowed prefixes themselves: a symlinked allowPaths entry allows where it leads', async () => {
    const alias = path.join(root, 'alias');
    fs.symlinkSync(allowed, alias);
    const viaAlias = new Policy({ allowPaths: [alias] });
    expect(await viaAlias.checkPath(path.join(alias, 'ok.txt'), 'read')).toBe(path.join(allowed, 'ok.txt'));
    expect(await viaAlias.checkPath(path.join(allowed, 'new.txt'), 'write')).toBe(path.join(allowed, 'new.txt'));
    expect((await refusalOf(viaAlias.checkPath(path.join(alias, 'escape', 'secret'), 'read'))).rule).toBe('allowPaths');
  });

  it('an open policy resolves but allows any path', async () => {
    expect(await Policy.open.checkPath(path.join(allowed, 'escape', 'secret'), 'write')).toBe(path.join(outside, 'secret'));
  });
});

describe('loadPolicy', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vssh-policy-file-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('loads a valid file', async () => {
    const rules: PolicyRules = {
      allowCommands: ['df', '/usr/bin/uptime'],
      allowPaths: ['/srv'],
      maxFileBytes: 1 << 30,
      maxTimeoutMs: 600_000,
      readOnly: false,
      allowTunnels: ['127.0.0.1:*'],
    };
    const p = await loadPolicy(write('good.json', JSON.stringify(rules)));
    expect(p.rules).toEqual(rules);
    expect(p.describe()).toEqual([
      'allowCommands: only df, /usr/bin/uptime may run',
      'allowShell: shell strings (sh -c) refused',
      'allowPaths: file operations only under /srv',
      `maxFileBytes: files up to ${1 << 30} bytes`,
      'maxTimeoutMs: exec timeouts up to 600000 ms, and that when none is asked',
      'allowTunnels: only to 127.0.0.1:*',
    ]);
    expect(Policy.open.describe()).toEqual([]);
  });

  it('names the file and the unknown field', async () => {
    const file = write('typo.json', '{"allowComands": ["df"]}');
    const msg = await badInputOf(loadPolicy(file));
    expect(msg).toContain(file);
    expect(msg).toContain('unknown field "allowComands"');
    expect(msg).toContain('known fields: allowCommands,');
  });

  it('names the file, the field and what it expects for a wrong type', async () => {
    const cases: Array<[string, string]> = [
      ['{"maxFileBytes": "1G"}', 'field "maxFileBytes" must be a whole number of bytes, 0 or more, got "1G"'],
      ['{"readOnly": "yes"}', 'field "readOnly" must be true or false'],
      ['{"allowPaths": ["srv"]}', 'field "allowPaths" must be an array of absolute paths'],
      ['{"allowCommands": "df"}', 'field "allowCommands" must be an array of command names or absolute paths'],
      ['{"allowTunnels": ["127.0.0.1"]}', 'field "allowTunnels" must be an array of "host:port" or "host:*" patterns'],
      ['{"maxTimeoutMs": 0}', 'field "maxTimeoutMs" must be a whole number of milliseconds, from 1 to 2147483647'],
      ['{"maxTimeoutMs": 4000000000}', 'field "maxTimeoutMs" must be a whole number of milliseconds, from 1 to 2147483647'],
      ['["df"]', 'expected a JSON object of policy rules'],
    ];
    for (const [text, expected] of cases) {
      const file = write('wrong.json', text);
      const msg = await badInputOf(loadPolicy(file));
      expect(msg).toContain(`policy file ${file}`);
      expect(msg).toContain(expected);
    }
  });

  it('names the file for bad JSON and for a missing file', async () => {
    const bad = write('bad.json', '{ "readOnly": true, }');
    expect(await badInputOf(loadPolicy(bad))).toMatch(new RegExp(`^policy file ${bad} is not valid JSON: `));
    const missing = path.join(dir, 'missing.json');
    expect(await badInputOf(loadPolicy(missing))).toBe(`policy file ${missing} cannot be read: ENOENT`);
  });

  it('validates rules given in code too', () => {
    expect(codeOf(() => new Policy({ allowPaths: ['relative'] }))).toBe('VSSH_BAD_INPUT');
  });
});
