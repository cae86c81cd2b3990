import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEAL_CONFIG, readHealConfig } from '../../src/heal/config.js';
import { appendAudit } from '../../src/heal/audit.js';
import { parseDf, dfArgv } from '../../src/heal/df.js';
import { parsePsi } from '../../src/heal/checks/memory.js';
import { parseJournalJson } from '../../src/heal/checks/unit.js';
import { parseTopProcs } from '../../src/heal/checks/load.js';
import { stalePeers } from '../../src/heal/checks/mesh.js';
import { cleanerArgv } from '../../src/heal/checks/disk.js';

describe('heal.yaml, the audit log and the parsers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mpop-healcfg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string): string => {
    const f = join(dir, `heal-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, text);
    return f;
  };

  it('an absent file is the defaults; a full one is read with durations and cleaners', () => {
    expect(readHealConfig(join(dir, 'absent.yaml'))).toEqual(DEFAULT_HEAL_CONFIG);
    const c = readHealConfig(write(`# ours
thresholds:
  disk: 80
  clock: 1.5s
  peerStale: 5m
disk:
  mounts: [/, /var]
  clean: [apt, tmp, docker]
  commands:
    docker: [docker, system, prune, -f]
auto: [unit]
monitor:
  alerts: {disk: 95, loadSamples: 5}
`));
    expect(c.thresholds).toMatchObject({ disk: 80, clockMs: 1500, peerStaleMs: 300_000, inodes: 90 });
    expect(c.disk).toMatchObject({ mounts: ['/', '/var'], clean: ['apt', 'tmp', 'docker'], olderThanDays: 7 });
    expect(c.auto).toEqual(['unit']);
    expect(c.monitor.alerts).toEqual({ disk: 95, memory: 10, load: 2, loadSamples: 5, unreachableRounds: 2 });
  });

  it('mistakes name the file, the line and the key', () => {
    const cases: [string, RegExp][] = [
      ['thresholds:\n  disk: 80\n  dsik: 3\n', /:3: thresholds: unknown key "dsik"/],
      ['thresholds:\n  disk: lots\n', /:2: thresholds\.disk: .*number/i],
      ['thresholds:\n  disk: 120\n', /:2: thresholds\.disk: .*100/],
      ['thresholds:\n  clock: soon\n', /:2: thresholds\.clock: "soon" is not a duration/],
      ['disk:\n  clean: [tmp, rm-rf]\n', /disk\.clean: "rm-rf" is neither a built-in cleaner/],
      ['disk:\n  tmpDirs: [/]\n', /:2: disk\.tmpDirs\.0: never \/ itself/],
      ['disk:\n  mounts: [relative]\n', /:2: disk\.mounts\.0: an absolute path/],
      ['auto: [disk, everything]\n', /:1: auto\.1: /],
      ['thresholds: [\n', /heal-.*\.yaml:\d+: .*fix the YAML/],
      ['a: 1\na: 2\n', /heal-.*\.yaml:\d+: /],
    ];
    for (const [text, want] of cases) expect(() => readHealConfig(write(text)), text).toThrow(want);
    try {
      readHealConfig(write('thresholds: {disk: lots}\n'));
    } catch (e) {
      expect((e as { code: string }).code).toBe('MPOP_HEAL');
    }
  });

  it('the audit log is appended line by line, from many writers at once, never interleaved', async () => {
    const file = join(dir, 'audit.jsonl');
    const entry = (i: number) => ({ time: new Date().toISOString(), node: `n${i}`, check: 'disk', action: 'clean: tmp', result: 'fixed' as const, before: { status: 'problem', diagnosis: 'x'.repeat(3000) }, after: { status: 'ok', diagnosis: 'y' }, detail: `${i}` });
    // other processes, as several mpop heal runs would be
    const script = `import { appendAudit } from ${JSON.stringify(new URL('../../dist/heal/audit.js', import.meta.url).pathname)};
      for (let i = 0; i < 50; i++) appendAudit(process.argv[2], { time: 't', node: 'p' + process.pid, check: 'disk', action: 'a', result: 'fixed', before: { status: 'problem', diagnosis: 'z'.repeat(5000) }, after: null, detail: String(i) });`;
    const runner = join(dir, 'writer.mjs');
    writeFileSync(runner, script);
    const writers = [1, 2, 3].map(() => execa(process.execPath, [runner, file], { reject: false }));
    for (let i = 0; i < 50; i++) appendAudit(file, entry(i));
    const done = await Promise.all(writers);
    const ran = done.filter((d) => d.exitCode === 0).length;
    expect(ran, done.map((d) => d.stderr).join('\n')).toBe(3);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBe(50 + 50 * ran);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('parses df, PSI, journal JSON, ps, and wire peers', () => {
    const df = parseDf('Type    1B-blocks        Used       Avail Use%   Inodes  IUsed IUse% Mounted on\next4 270553174016 23886065664 85058228224  22% 16777216 446646    3% /\nvfat 100 10 90 10% - - - /boot/efi\ntmpfs 2097152 1572864 524288 75% 1000 3 1% /mnt/with space\n');
    expect(df).toEqual([
      { mount: '/', fs: 'ext4', size: 270553174016, used: 23886065664, avail: 85058228224, usePct: 22, inodes: 16777216, inodesUsed: 446646, inodesPct: 3 },
      { mount: '/boot/efi', fs: 'vfat', size: 100, used: 10, avail: 90, usePct: 10, inodes: null, inodesUsed: null, inodesPct: null },
      { mount: '/mnt/with space', fs: 'tmpfs', size: 2097152, used: 1572864, avail: 524288, usePct: 75, inodes: 1000, inodesUsed: 3, inodesPct: 1 },
    ]);
    expect(dfArgv(['-x'])).toEqual(['df', '-B1', '--output=fstype,size,used,avail,pcent,itotal,iused,ipcent,target', '--', '-x']);
    expect(parsePsi('some avg10=12.50 avg60=3.00 avg300=1.00 total=123\nfull avg10=2.00 avg60=0.50 avg300=0.10 total=45\n')).toEqual({ some: { avg10: 12.5, avg60: 3, avg300: 1 }, full: { avg10: 2, avg60: 0.5, avg300: 0.1 } });
    expect(parsePsi('nonsense')).toBeNull();
    expect(parseJournalJson('{"MESSAGE":"Started x."}\n{"MESSAGE":[104,105]}\n{"MESS\n')).toEqual(['Started x.', 'hi']);
    expect(parseTopProcs('  12 99.5 stress\n   1  0.0 init\nbad line\n')).toEqual([{ pid: 12, cpu: 99.5, comm: 'stress' }, { pid: 1, cpu: 0, comm: 'init' }]);
    const now = Date.UTC(2026, 0, 1);
    const status = { role: 'node' as const, name: 'n1', up: true, removed: null, peers: [
      { name: 'fresh', lastHandshake: now - 10_000, path: 'direct' },
      { name: 'old', lastHandshake: now - 600_000, path: 'direct' },
      { name: 'never', lastHandshake: null, path: 'direct' },
      { name: 'gone', lastHandshake: now, path: 'not configured' },
    ] };
    expect(stalePeers(status, now, 180_000).map((p) => p.name)).toEqual(['old', 'never', 'gone']);
  });

  it('cleaners are argv (no shell) and only the ones asked for', () => {
    const d = { ...DEFAULT_HEAL_CONFIG.disk, tmpDirs: ['/tmp', '/var/tmp'], olderThanDays: 3, commands: { x: ['echo', '$(rm -rf /)'] } };
    expect(cleanerArgv('tmp', d)).toEqual([['find', '/tmp', '-xdev', '-mindepth', '1', '-type', 'f', '-mtime', '+3', '-delete'], ['find', '/var/tmp', '-xdev', '-mindepth', '1', '-type', 'f', '-mtime', '+3', '-delete']]);
    expect(cleanerArgv('journal', d)).toEqual([['journalctl', '--vacuum-size=200M']]);
    expect(cleanerArgv('x', d)).toEqual([['echo', '$(rm -rf /)']]);
    expect(cleanerArgv('unknown', d)).toEqual([]);
    expect(readFileSync(new URL('../../src/heal/checks/disk.ts', import.meta.url), 'utf8')).not.toMatch(/shell:/);
  });
});
