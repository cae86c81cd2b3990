import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffNodes } from '../../src/facts/diff.js';
import { nsFleet, type NsFleet } from '../deploy/nsfleet.js';

/**
 * diff --files and a kill -9 in the middle of a fan-out, over daemons that are real processes, each in its own
 * mount namespace (so a and b see different files at the same path). Their PATH carries a slow fake nvidia-smi
 * (it prints the documented CSV after a pause), so a daemon can be killed while its node is at work.
 */
describe('diff and faults over daemons in their own mount namespaces', () => {
  let fleet: NsFleet;
  let bin: string;
  const path = process.env.PATH;
  beforeAll(async () => {
    bin = mkdtempSync(join(tmpdir(), 'mpop-facts-slow-'));
    writeFileSync(join(bin, 'gpus.csv'), readFileSync(new URL('../fixtures/facts/nvidia-smi-query.stdout', import.meta.url)));
    // The daemons' NAME reaches their children, so the fake says which node it is working for.
    writeFileSync(join(bin, 'nvidia-smi'), `#!/bin/sh\ntouch '${bin}/started-'"$NAME"\nsleep 3\ncat '${join(bin, 'gpus.csv')}'\n`);
    chmodSync(join(bin, 'nvidia-smi'), 0o755);
    process.env.PATH = `${bin}:${path}`;
    try {
      fleet = await nsFleet(['a', 'b', 'c']);
    } finally {
      process.env.PATH = path;
    }
    const put = (node: string, rel: string, text: string, mode = 0o644): void => {
      const file = fleet.at(node, join(fleet.base, 'etc', rel));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text, { mode });
      chmodSync(file, mode);
    };
    for (const n of ['a', 'b']) {
      put(n, 'same.conf', 'x = 1\n');
      put(n, 'sub/deep.conf', 'deep\n');
    }
    put('a', 'only-a.conf', 'a\n');
    put('b', 'only-b.conf', 'b\n');
    put('a', 'changed.conf', 'port = 80\n');
    put('b', 'changed.conf', 'port = 81\n');
    put('a', 'mode.sh', 'echo\n', 0o755);
    put('b', 'mode.sh', 'echo\n', 0o644);
    symlinkSync('same.conf', fleet.at('a', join(fleet.base, 'etc', 'link')));
    symlinkSync('changed.conf', fleet.at('b', join(fleet.base, 'etc', 'link')));
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    rmSync(bin, { recursive: true, force: true });
  });

  it('--files: only on a, only on b, and differing content, mode and link target; the rest the same', async () => {
    const d = await diffNodes(fleet.pool, 'a', 'b', { subjects: ['files'], files: join(fleet.base, 'etc') });
    const f = d.subjects[0]!;
    expect(f.status).toBe('differ');
    expect(f.onlyA.map((x) => x.key)).toEqual(['only-a.conf']);
    expect(f.onlyB.map((x) => x.key)).toEqual(['only-b.conf']);
    expect(f.differ.map((x) => x.key)).toEqual(['changed.conf', 'link', 'mode.sh']);
    expect(f.same).toBe(3); // same.conf, sub, sub/deep.conf
    expect(d.differs).toBe(true);
  });

  it('the CLI groups it by subject and exits 1 when something differs; a folder missing on one side is all only-on-the-other', async () => {
    const r = await fleet.mpop(['diff', 'a', 'b', '--files', join(fleet.base, 'etc'), '--only', 'kernel,files']);
    expect(r.exitCode).toBe(1);
    const out = String(r.stdout);
    expect(out).toMatch(/^kernel: same/m);
    expect(out).toMatch(/^files: 1 only on a, 1 only on b, 3 differ, 3 same$/m);
    expect(out).toMatch(/^ {2}- only-a\.conf .*\(only on a\)$/m);
    expect(out).toMatch(/^ {2}~ link: a symlink -> same\.conf {2}b symlink -> changed\.conf$/m);
    expect(out).toMatch(/^ {2}~ mode\.sh: a file 5 B .*mode 755 {2}b file 5 B .*mode 644$/m);
    const missing = await fleet.mpop(['diff', 'a', 'c', '--files', join(fleet.base, 'etc'), '--only', 'files', '--json']);
    const j = JSON.parse(String(missing.stdout));
    expect(j.subjects[0].onlyA.length).toBe(7);
    expect(j.subjects[0].notes).toEqual([`${join(fleet.base, 'etc')} does not exist on c`]);
  });

  it('a daemon killed (-9) while its node is at work: that node is unreachable with why, the others finish', async () => {
    const run = fleet.mpop(['gpu', 'a,b,c', '--json']);
    for (let i = 0; i < 300 && !existsSync(join(bin, 'started-b')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(bin, 'started-b'))).toBe(true);
    await fleet.stop('b'); // SIGKILL, while its nvidia-smi runs
    const r = await run;
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(String(r.stdout));
    const by = Object.fromEntries(j.nodes.map((n: { node: string }) => [n.node, n]));
    expect(by.a.outcome).toBe('ok');
    expect(by.a.value.gpus).toHaveLength(3);
    expect(by.c.value.present).toBe(true);
    expect(by.b.outcome).toBe('unreachable');
    // the connection lost under the call (or, when the kill landed between two frames, the reconnect refused)
    expect(by.b.error.code).toMatch(/^VSSH_(CONNECTION_LOST|UNREACHABLE)$/);
    await fleet.start('b');
  }, 30_000);
});
