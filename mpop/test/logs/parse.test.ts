import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { byTime, dmesgEntry, fileEntries, journalEntry, lineTime, splitLines } from '../../src/logs/parse.js';
import { parseProbe } from '../../src/logs/probe.js';
import { parseSince, planLogs } from '../../src/logs/plan.js';
import { parseLogSource } from '../../src/logs/source.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/logs/${name}`, import.meta.url), 'utf8');
const ctx = { nowMs: Date.UTC(2026, 11, 2, 7, 0, 0), tzMinutes: 60 };

describe('log parsers (fixtures captured from real journalctl 252 and dmesg 2.38)', () => {
  it('reads journalctl -o json: time, unit or identifier, priority, pid, message', () => {
    const entries = splitLines(fixture('journal-json.stdout')).map(journalEntry);
    expect(entries.map((e) => [e?.unit, e?.priority, e?.message])).toEqual([
      ['kernel', 6, 'br0: port 1(p0hub) entered disabled state'],
      ['systemd-journald', 6, 'Journal started'],
      ['systemd-journald', 6, expect.stringMatching(/^Runtime Journal/)],
      ['mpop-fixture', 3, 'hello from systemd-cat'],
      ['binlog', 6, 'bin\\x01ary\\xff'],
    ]);
    expect(entries[3]).toMatchObject({ identifier: 'mpop-fixture', pid: 13971, time: new Date(1796194870031).toISOString() });
    expect(journalEntry('{"MESSAGE":[104,105],"__REALTIME_TIMESTAMP":"1000000"}')).toEqual({ message: 'hi', time: '1970-01-01T00:00:01.000Z' });
    expect(journalEntry('{"MESSAGE":null}')!.message).toContain('too large');
    expect(journalEntry('not json')).toBeUndefined();
    expect(journalEntry('[1,2]')).toBeUndefined();
  });

  it('reads dmesg -x --time-format iso', () => {
    const [e] = splitLines(fixture('dmesg-x-iso.stdout')).map((l) => dmesgEntry(l, ctx));
    expect(e).toMatchObject({ unit: 'kernel', priority: 6 });
    expect(Date.parse(e!.time!)).toBeGreaterThan(Date.parse('2026-01-01'));
    expect(dmesgEntry('garbage', ctx)).toEqual({ message: 'garbage', unit: 'kernel' });
  });

  it('finds the time of RFC 3339, classic syslog (no year, node zone), nginx access and error lines', () => {
    expect(new Date(lineTime('2026-12-02T06:50:53.123456+00:00 h sshd[1]: x', ctx)!.ms).toISOString()).toBe('2026-12-02T06:50:53.123Z');
    expect(new Date(lineTime('Dec  2 07:50:53 h sshd[1]: x', ctx)!.ms).toISOString()).toBe('2026-12-02T06:50:53.000Z');
    // a December line read in early January is last year's
    expect(new Date(lineTime('Dec 31 23:00:00 h x', { nowMs: Date.UTC(2027, 0, 1, 1), tzMinutes: 0 })!.ms).getUTCFullYear()).toBe(2026);
    expect(new Date(lineTime('10.0.0.1 - - [02/Dec/2026:06:50:53 +0100] "GET / HTTP/1.1" 200', ctx)!.ms).toISOString()).toBe('2026-12-02T05:50:53.000Z');
    expect(lineTime('2026/12/02 07:50:53 [error] 12#12: *1 open() failed', ctx)).toEqual({ ms: Date.UTC(2026, 11, 2, 6, 50, 53), priority: 3 });
    expect(lineTime('no time here', ctx)).toBeUndefined();
    expect(lineTime('Foo  2 07:50:53 not a month', ctx)).toBeUndefined();
  });

  it('a line without a time (a stack trace) takes the time of the line before; several files merge in time order', () => {
    const { entries, timed } = fileEntries('2026-12-02T06:00:00Z boom\n  at x()\n', '/a', ctx);
    expect(timed).toBe(1);
    expect(entries[1]).toMatchObject({ message: '  at x()', time: '2026-12-02T06:00:00.000Z' });
    const merged = byTime([{ message: 'b', time: '2026-12-02T06:00:02Z' }, { message: 'a', time: '2026-12-02T06:00:01Z' }, { message: 'c', time: '2026-12-02T06:00:03Z' }]);
    expect(merged.map((e) => e.message)).toEqual(['a', 'b', 'c']);
  });

  it('sources and --since parse, or refuse clearly', () => {
    expect(parseLogSource('ssh.service')).toMatchObject({ kind: 'unit', name: 'ssh.service' });
    expect(parseLogSource('sshd')).toMatchObject({ kind: 'unit', name: 'sshd' });
    expect(parseLogSource('docker:web-1')).toMatchObject({ kind: 'container', name: 'web-1', runtime: 'docker' });
    expect(parseLogSource('/var/log/app.log')).toMatchObject({ kind: 'file' });
    expect(() => parseLogSource('/var/log/a\nb')).toThrow(/control characters/);
    expect(() => parseLogSource('container:$(x)')).toThrow(/not a container name/);
    expect(parseSince('90m')).toEqual({ agoMs: 5_400_000 });
    expect(parseSince('2 days')).toEqual({ agoMs: 172_800_000 });
    expect(parseSince('@1764655200')).toEqual({ atMs: 1764655200000 });
    expect(parseSince('2026-12-02T06:00:00Z')).toEqual({ atMs: Date.UTC(2026, 11, 2, 6) });
    expect(() => parseSince('soonish')).toThrow(/neither a span/);
  });

  it('plans journald where there is a journal, and says what is missing where there is not', () => {
    const withJournal = parseProbe('now 1764655200\ntz +0000\njournal\nsystemd\ntool journalctl\ntool dmesg\n');
    const unit = planLogs('g2', parseLogSource('ssh.service'), { lines: 50, since: { agoMs: 3_600_000 }, grep: 'a.b', fixed: true }, withJournal);
    expect(unit.readers[0]!.fetch).toEqual({ argv: ['journalctl', '-o', 'json', '--no-pager', '--all', '-n', '50', '--since', '@1764651600', '--grep', 'a\\.b', '--case-sensitive=true', '-u', 'ssh.service'] });
    expect((unit.readers[0]!.follow as { argv: string[] }).argv).toContain('--follow');
    const auth = planLogs('g2', parseLogSource('auth'), { lines: 5 }, withJournal);
    expect((auth.readers[0]!.fetch as { argv: string[] }).argv.slice(-2)).toEqual(['SYSLOG_FACILITY=4', 'SYSLOG_FACILITY=10']);
    const bare = parseProbe('now 1764655200\ntz +0000\ntool tail\nunreadable /var/log/auth.log\n');
    expect(() => planLogs('n1', parseLogSource('auth'), { lines: 5 }, bare)).toThrow('no systemd journal and no auth log on n1: /var/log/auth.log cannot be read by the vssh daemon\'s user (permission denied)');
    expect(() => planLogs('n1', parseLogSource('kernel'), { lines: 5 }, bare)).toThrow('no kernel log on n1: no systemd journal and no dmesg');
    expect(() => planLogs('n1', parseLogSource('container:web'), { lines: 5 }, bare)).toThrow('no docker or podman on n1');
    const journalctlMissing = parseProbe('journal\n');
    expect(journalctlMissing.journal).toBe(false);
  });
});
