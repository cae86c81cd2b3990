import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFleet } from '../src/exec.js';
import { fanout, waves } from '../src/fanout/run.js';
import { fold } from '../src/fanout/fold.js';
import { compressNodes } from '../src/inventory/names.js';
import { Fleet, loopFleet } from './fleet.js';

describe('fan-out over real loopback daemons', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(4);
    await fleet.addDown('down1');
    await fleet.addSilent('mute1');
  });
  afterAll(() => fleet?.close());

  it('runs everywhere; a down node is unreachable, a mute one times out on its own clock, the rest are ok', async () => {
    const started = performance.now();
    const run = await execFleet(fleet.pool, ['n1', 'n2', 'n3', 'n4', 'down1', 'mute1'], { command: { shell: 'echo hi; test "$(hostname)" != nohost' }, timeoutMs: 1000 });
    const by = Object.fromEntries(run.results.map((r) => [r.node, r]));
    expect(['n1', 'n2', 'n3', 'n4'].map((n) => by[n]!.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(by.n1!.value!.stdout).toBe('hi\n');
    expect(by.down1!.outcome).toBe('unreachable');
    expect(by.mute1!.outcome).toMatch(/unreachable|timedout/);
    expect(run.counts.ok).toBe(4);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('a non-zero exit is failed with its code; the others are not held back', async () => {
    const run = await execFleet(fleet.pool, ['n1', 'n2'], { command: { argv: ['sh', '-c', 'exit 3'] } });
    expect(run.results.map((r) => [r.outcome, r.value?.exitCode, r.error?.code])).toEqual([['failed', 3, 'MPOP_REMOTE'], ['failed', 3, 'MPOP_REMOTE']]);
  });

  it('a remote timeout kills the command and says timed out', async () => {
    const run = await execFleet(fleet.pool, ['n3'], { command: { argv: ['sleep', '30'] }, timeoutMs: 300 });
    expect(run.results[0]!.outcome).toBe('timedout');
    expect(run.results[0]!.durationMs).toBeLessThan(10_000);
  });

  it('stop-on-error skips the nodes after the first failure', async () => {
    const run = await execFleet(fleet.pool, ['n1', 'n2', 'n3', 'n4'], { command: { shell: 'exit 1' } }, { concurrency: 1, stopOnError: true });
    expect(run.results.map((r) => r.outcome)).toEqual(['failed', 'skipped', 'skipped', 'skipped']);
    expect(run.stopped).toContain('n1');
  });

  it('batches run in waves, one after the other, with the canary first', async () => {
    const seen: number[] = [];
    let running = 0;
    await fanout(fleet.pool, ['n1', 'n2', 'n3', 'n4'], async () => {
      running++;
      seen.push(running);
      await new Promise((r) => setTimeout(r, 50));
      running--;
    }, { batch: 2 });
    expect(Math.max(...seen)).toBe(2);
    expect(waves([1, 2, 3, 4, 5], '40%', true)).toEqual([[1], [2, 3], [4, 5]]);
    expect(() => waves([1], 'lots')).toThrow(/not a count/);
  });

  it('an abort cancels the remote commands', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const run = await execFleet(fleet.pool, ['n1', 'n2'], { command: { argv: ['sleep', '30'] } }, { signal: ac.signal });
    expect(run.results.map((r) => r.outcome)).toEqual(['cancelled', 'cancelled']);
  });
});

describe('folding', () => {
  it('folds identical outputs under compressed node ranges, the largest group first', () => {
    const f = fold([{ node: 'web3', text: 'a' }, { node: 'web1', text: 'a' }, { node: 'db1', text: 'b' }, { node: 'web2', text: 'a' }, { node: 'web7', text: 'a' }]);
    expect(f.map((x) => [x.label, x.text])).toEqual([['web[1-3,7]', 'a'], ['db1', 'b']]);
  });
  it('keeps zero padding and separates prefixes', () => {
    expect(compressNodes(['n01', 'n02', 'n03', 'x', 'g10', 'g9'])).toBe('g[9-10],n[01-03],x');
  });
});
