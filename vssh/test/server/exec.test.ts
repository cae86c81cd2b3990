import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsshError } from '../../src/errors.js';
import { Loop, loop, processesWith, waitFor } from '../loopback.js';

let l: Loop;
beforeAll(async () => void (l = await loop()));
afterAll(async () => l.close());

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e) => (e instanceof VsshError ? e.code : String(e)));

describe('exec', () => {
  it('runs argv without a shell, returning exit code, stdout and stderr apart', async () => {
    const r = await l.client.exec({ argv: ['sh', '-c', 'printf out; printf err >&2; exit 7'] });
    expect([r.exitCode, r.stdout.toString(), r.stderr.toString()]).toEqual([7, 'out', 'err']);
    // argv is not a shell: metacharacters stay literal
    const lit = await l.client.exec({ argv: ['echo', '$HOME', '|', 'x'] });
    expect(lit.stdout.toString()).toBe('$HOME | x\n');
  });

  it('runs a shell string, with env and cwd', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vssh-cwd-')));
    const r = await l.client.exec({ shell: 'echo "$GREETING from $(pwd)" | tr a-z A-Z' }, { env: { GREETING: 'hello' }, cwd: dir });
    expect(r.stdout.toString()).toBe(`HELLO FROM ${dir.toUpperCase()}\n`);
    rmSync(dir, { recursive: true });
  });

  it('reports the signal that killed the command', async () => {
    const r = await l.client.exec({ shell: 'kill -KILL $$' });
    expect([r.exitCode, r.signal]).toEqual([null, 'SIGKILL']);
  });

  it('says clearly when the command does not exist', async () => {
    const err = await l.client.exec({ argv: ['no-such-command-xyz'] }).catch((e) => e);
    expect(err.code).toBe('VSSH_NOT_FOUND');
    expect(err.message).toContain('no-such-command-xyz');
  });

  it('streams output as it comes, before the command ends', async () => {
    const seen: number[] = [];
    const t0 = Date.now();
    const r = await l.client.exec({ shell: 'echo first; sleep 1; echo second' }, { onStdout: () => void seen.push(Date.now() - t0) });
    expect(r.exitCode).toBe(0);
    expect(seen.length).toBe(2);
    expect(seen[1]! - seen[0]!).toBeGreaterThan(700);
  });

  it('feeds stdin to the command, byte for byte', async () => {
    const input = randomBytes(3 * 1024 * 1024);
    const r = await l.client.exec({ argv: ['cat'] }, { stdin: input });
    expect(r.stdout.equals(input)).toBe(true);
  });

  it('kills the whole process group at the timeout', async () => {
    const marker = `987.${process.pid}${Date.now() % 1000}`;
    const r = await l.client.exec({ shell: `sleep ${marker} & sleep ${marker} & wait` }, { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 0, 4000)).toBe(true);
  });

  it('kills the process group when the client cancels', async () => {
    const marker = `876.${process.pid}${Date.now() % 1000}`;
    const ac = new AbortController();
    const run = l.client.exec({ shell: `sleep ${marker} & sleep ${marker}; wait` }, { signal: ac.signal });
    expect(await waitFor(() => processesWith(`sleep ${marker}`).length >= 2, 4000)).toBe(true);
    ac.abort();
    expect(await codeOf(run)).toBe('VSSH_CANCELLED');
    expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 0, 4000)).toBe(true);
    // the connection is still good
    expect((await l.client.exec({ argv: ['true'] })).exitCode).toBe(0);
  });

  it('caps output with a truncated flag, and still reports the exit code', async () => {
    const r = await l.client.exec({ shell: 'head -c 5000000 /dev/zero; exit 3' }, { maxOutputBytes: 1000 });
    expect([r.truncated, r.stdout.length, r.exitCode]).toEqual([true, 1000, 3]);
  });

  it('serves 1000 concurrent execs on one connection, each with its own output', async () => {
    const runs = await Promise.all(Array.from({ length: 1000 }, (_, i) => l.client.exec({ argv: ['echo', String(i)] })));
    expect(runs.every((r, i) => r.exitCode === 0 && r.stdout.toString() === `${i}\n`)).toBe(true);
  }, 120_000);

  it('refuses a request with both or neither of argv and shell', async () => {
    expect(await codeOf(l.client.request('exec', {}))).toBe('VSSH_BAD_INPUT');
    expect(await codeOf(l.client.request('exec', { argv: ['true'], shell: 'true' }))).toBe('VSSH_BAD_INPUT');
    expect(await codeOf(l.client.request('exec', { argv: 'true' }))).toBe('VSSH_BAD_INPUT');
    expect(await codeOf(l.client.request('nonsense-verb', {}))).toBe('VSSH_UNKNOWN_VERB');
  });
});
