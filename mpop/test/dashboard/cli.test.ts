import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopFleet, MPOP_BIN, type Fleet } from '../fleet.js';
import { parsePrometheus, sample } from './promtext.js';

/** firstLine starts the built CLI and resolves with the first line it prints (a server's address). */
function start(fleet: Fleet, args: string[]): { child: ResultPromise; line: Promise<string> } {
  const child = execa(process.execPath, [MPOP_BIN, ...args], { env: fleet.env, reject: false, stdin: 'ignore' });
  const line = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    void child.then((r) => reject(new Error(`exited ${r.exitCode} before printing: ${String(r.stderr)}`)));
  });
  return { child, line };
}

async function until<T>(f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('mpop dashboard and mpop metrics (the built CLI)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await loopFleet(2);
  });
  afterAll(() => fleet?.close());

  it('dashboard prints a login link once; the link gives a session that reads the fleet; SIGTERM stops it', async () => {
    const { child, line } = start(fleet, ['dashboard', '--port', '0', '--json', '--interval', '1s']);
    const { url, login } = JSON.parse(await line) as { url: string; login: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(login).toMatch(new RegExp(`^${url}/login#t=login_[A-Za-z0-9_-]{43}$`));
    const token = login.split('#t=')[1]!;
    const r = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token }) });
    expect(r.status).toBe(204);
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mpop_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;
    const view = await until(async () => {
      const v = (await (await fetch(`${url}/api/fleet`, { headers: { cookie } })).json()) as { counts: { online: number } };
      return v.counts.online === 2 ? v : undefined;
    });
    expect(view.counts).toMatchObject({ total: 2, online: 2 });
    const again = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token }) });
    expect(again.status).toBe(401);
    child.kill('SIGTERM');
    const done = await child;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expect(String(done.stderr)).not.toContain(token);
  });

  it('metrics --once prints a valid exposition of every node; metrics serves it on a port', async () => {
    const once = await fleet.mpop(['metrics', '--once']);
    expect(once.exitCode, String(once.stderr)).toBe(0);
    const fam = parsePrometheus(String(once.stdout) + '\n'); // execa strips the final newline
    expect(sample(fam, 'mpop_node_up', { node: 'n1' })?.value).toBe(1);
    expect(sample(fam, 'mpop_node_up', { node: 'n2' })?.value).toBe(1);

    await fleet.stop('n2');
    const { child, line } = start(fleet, ['metrics', '--port', '0', '--json', '--interval', '1s']);
    const { url } = JSON.parse(await line) as { url: string };
    const served = parsePrometheus(await (await fetch(url)).text());
    expect(sample(served, 'mpop_node_up', { node: 'n1' })?.value).toBe(1);
    expect(sample(served, 'mpop_node_up', { node: 'n2' })?.value).toBe(0);
    expect(sample(served, 'mpop_node_memory_total_bytes', { node: 'n2' })).toBeUndefined();
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
    await fleet.start('n2');
  });

  it('bad flags are clear errors with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['dashboard', '--bind', 'example.com'], /--bind "example.com" is not an IP address/],
      [['metrics', '--port', '70000'], /--port 70000 is not a TCP port/],
      [['dashboard', '--interval', '100ms'], /--interval must be 1s at least/],
      [['metrics', '--interval', 'soon', '--once'], /--interval "soon"/],
    ];
    for (const [args, msg] of cases) {
      const r = await fleet.mpop(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(String(r.stderr)).toMatch(msg);
      expect(String(r.stderr)).not.toMatch(/\n\s+at /);
    }
  });
});
