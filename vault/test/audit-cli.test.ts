import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vaultPaths } from '../src/paths.js';
import { FAST_KDF_FLAGS, runSv, tmpHome } from './helpers.js';

let t: ReturnType<typeof tmpHome>;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  t = tmpHome();
  env = { MESHPOP_HOME: t.home, SV_PASSWORD_FILE: t.pwFile };
  expect((await runSv(['init', '--shares', '0', ...FAST_KDF_FLAGS], { env })).code).toBe(0);
  expect((await runSv(['set', 'a'], { env, input: 'value' })).code).toBe(0);
  for (let i = 0; i < 3; i++) expect((await runSv(['get', 'a'], { env })).code).toBe(0);
});
afterEach(() => t.cleanup());

describe('the audit log through the CLI', () => {
  it('a malformed line, a truncated, emptied or removed log: exit 6 from audit, audit --verify, verify and get; status says BROKEN', async () => {
    const file = vaultPaths(t.home).audit;
    const good = readFileSync(file, 'utf8');
    const attacks: [string, () => void, string | undefined][] = [
      ['a null line', () => appendFileSync(file, 'null\n'), 'line 6'],
      ['head -n -3', () => writeFileSync(file, good.trim().split('\n').slice(0, -3).join('\n') + '\n'), 'line 3'],
      [': >', () => writeFileSync(file, ''), 'line 1'],
      ['rm', () => rmSync(file), 'line 1'],
    ];
    for (const [what, attack, line] of attacks) {
      writeFileSync(file, good);
      attack();
      const status = await runSv(['status', '--json'], { env });
      expect(status.code, what).toBe(0);
      expect(JSON.parse(status.stdout).audit, what).toMatchObject({ intact: false });
      if (what === 'head -n -3') {
        const human = await runSv(['status'], { env });
        expect(human.stdout, what).toMatch(/Audit .*BROKEN/);
        expect(human.stdout, what).not.toContain('chain intact');
      }
      for (const args of [['audit', '--verify'], ['verify'], ['get', 'a']]) {
        const r = await runSv(args, { env });
        expect(r.code, `${what}: ${args.join(' ')}`).toBe(6);
        expect(r.stderr, `${what}: ${args.join(' ')}`).toContain(line);
        expect(r.stderr).not.toContain('TypeError');
      }
      if (what === 'a null line') {
        const list = await runSv(['audit'], { env });
        expect(list.code).toBe(6);
        expect(list.stderr).toContain('line 6');
      }
    }
    writeFileSync(file, good);
    const ok = await runSv(['audit', '--verify'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/intact: \d+ entries, chain, head and MACs verified/);
    expect((await runSv(['status'], { env })).stdout).toContain('chain intact');
  });

  it('audit --reset: refused on an intact log, then after a removed log the way back (the broken error says so)', async () => {
    const intact = await runSv(['audit', '--reset'], { env });
    expect(intact.code).not.toBe(0);
    expect(intact.stderr).toMatch(/intact/);
    rmSync(vaultPaths(t.home).audit);
    const broken = await runSv(['get', 'a'], { env });
    expect(broken.code).toBe(6);
    expect(broken.stderr).toContain('sv audit --reset');
    const reset = await runSv(['audit', '--reset', '--json'], { env });
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout).reset.keptAs[0]).toMatch(/audit\.head\.broken-/);
    const get = await runSv(['get', 'a'], { env });
    expect(get.code).toBe(0);
    expect(get.stdout).toBe('value');
    expect((await runSv(['audit', '--verify'], { env })).code).toBe(0);
  });
});
