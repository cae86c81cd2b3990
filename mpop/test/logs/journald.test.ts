import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/logs/parse.js';
import { Fleet, loopFleet } from '../fleet.js';
import { canJournal, startJournalNode, type JournalNode } from '../journald-node.js';

describe.skipIf(!canJournal)('mpop logs against a node with a real journald', () => {
  let fleet: Fleet;
  let node: JournalNode | undefined;
  beforeAll(async () => {
    fleet = await loopFleet(1);
    node = await startJournalNode(fleet);
  });
  afterAll(async () => {
    node?.stop();
    await fleet?.close();
  });

  it('reads the journal as typed entries (journalctl -o json), with --grep and --since, and follows it until SIGINT', async () => {
    const tag = `mpoptest${process.pid}`;
    const put = await fleet.mpop(['exec', 'j1', '--shell', `echo "disk error on sda ${tag}" | systemd-cat -t ${tag} -p err; echo "all fine ${tag}" | systemd-cat -t ${tag} -p info`]);
    expect(put.exitCode, String(put.stderr) + String(put.stdout)).toBe(0);
    let entries: LogEntry[] = [];
    for (let i = 0; i < 30 && entries.length < 2; i++) {
      const r = await fleet.mpop(['logs', 'j1', 'system', '--grep', tag, '--json']);
      expect(r.exitCode, String(r.stdout)).toBe(0);
      const n = JSON.parse(String(r.stdout)).nodes[0];
      expect(n.sources).toEqual(['journald']);
      entries = n.entries.filter((e: LogEntry) => e.identifier === tag);
      if (entries.length < 2) await new Promise((res) => setTimeout(res, 200));
    }
    // two systemd-cat streams: journald may take either first; the entries come in the journal's (time) order
    expect(entries.map((e) => [e.message, e.priority]).sort()).toEqual([[`all fine ${tag}`, 6], [`disk error on sda ${tag}`, 3]]);
    expect(Date.parse(entries[0]!.time!)).toBeLessThanOrEqual(Date.parse(entries[1]!.time!));
    expect(Date.parse(entries[0]!.time!)).toBeGreaterThan(Date.now() - 120_000);
    const grep = await fleet.mpop(['logs', 'j1', 'system', '--grep', 'disk error', '--since', '5m', '--json']);
    expect(JSON.parse(String(grep.stdout)).nodes[0].entries.map((e: LogEntry) => e.message)).toEqual([`disk error on sda ${tag}`]);
    const none = await fleet.mpop(['logs', 'j1', 'system', '--grep', `nothing-matches-${tag}`, '--json']);
    expect(none.exitCode, String(none.stdout)).toBe(0);
    expect(JSON.parse(String(none.stdout)).nodes[0].entries).toEqual([]);
    const text = await fleet.mpop(['logs', 'j1', 'system', '--grep', 'disk error']);
    expect(String(text.stdout)).toMatch(new RegExp(`^j1: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${tag}\\[\\d+\\]: <err> disk error on sda ${tag}$`, 'm'));

    const child = fleet.mpop(['logs', 'j1', 'system', '--follow', '--grep', `late-${tag}`, '--lines', '1']);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 30 && !out.includes(`late-${tag}`); i++) {
      await fleet.mpop(['exec', 'j1', '--shell', `echo "late-${tag} $RANDOM" | systemd-cat -t ${tag}`]);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(out).toContain(`late-${tag}`);
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
    let left = '';
    for (let i = 0; i < 50; i++) {
      left = (await execa('ps', ['-eo', 'args='])).stdout.split('\n').filter((l) => l.includes('journalctl') && l.includes(`late-${tag}`)).join('\n');
      if (!left) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(left).toBe('');
  });
});
