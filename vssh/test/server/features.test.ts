import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, Server, Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { ensureTls } from '@meshpop/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../src/server/policy.js';
import { VsshClient } from '../../src/client/client.js';
import { Loop, loop, waitFor } from '../loopback.js';

let dir: string;
beforeAll(() => void (dir = realpathSync(mkdtempSync(join(tmpdir(), 'vssh-feat-')))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e) => e.code ?? String(e));

describe('stat, list and sysinfo', () => {
  it('describe files with hashes, list trees in batches the client checks, and read the machine', async () => {
    const l = await loop();
    try {
      mkdirSync(join(dir, 'ls/sub'), { recursive: true });
      const data = randomBytes(1000);
      writeFileSync(join(dir, 'ls/sub/f'), data);
      for (let i = 0; i < 4500; i++) writeFileSync(join(dir, 'ls', `n${i}`), '');
      const st = await l.client.stat(join(dir, 'ls/sub/f'), { hash: true });
      expect([st.type, st.size, st.sha256]).toEqual(['file', 1000, createHash('sha256').update(data).digest('hex')]);
      const all = await l.client.list(join(dir, 'ls'), { recursive: true });
      expect(all.entries.length).toBe(4502); // three MSG batches
      expect(all.entries.find((e) => e.path === 'sub/f')?.size).toBe(1000);
      const some = await l.client.list(join(dir, 'ls'), { limit: 10 });
      expect([some.entries.length, some.truncated]).toEqual([10, true]);
      expect(await codeOf(l.client.stat(join(dir, 'missing')))).toBe('VSSH_NOT_FOUND');
      const info = await l.client.sysinfo();
      expect(info.hostname).toBe(hostname());
      expect(info.disks.some((d) => d.mount === '/')).toBe(true);
    } finally {
      await l.close();
    }
  });
});

describe('the policy, enforced by the daemon', () => {
  let l: Loop;
  beforeAll(async () => {
    mkdirSync(join(dir, 'allowed'), { recursive: true });
    mkdirSync(join(dir, 'outside'), { recursive: true });
    writeFileSync(join(dir, 'outside/secret'), 'no');
    symlinkSync(join(dir, 'outside'), join(dir, 'allowed/escape'));
    l = await loop({ policy: new Policy({ allowCommands: ['echo'], allowPaths: [join(dir, 'allowed')], maxFileBytes: 10_000, maxTimeoutMs: 5000, allowTunnels: [] }) });
  });
  afterAll(async () => l.close());

  it('refuses commands outside the allowlist and shell strings, naming the rule', async () => {
    expect((await l.client.exec({ argv: ['echo', 'ok'] })).stdout.toString()).toBe('ok\n');
    const err = await l.client.exec({ argv: ['cat', '/etc/passwd'] }).catch((e) => e);
    expect(err.code).toBe('VSSH_POLICY');
    expect(err.message).toContain('allowCommands');
    expect(await codeOf(l.client.exec({ shell: 'echo hi' }))).toBe('VSSH_POLICY');
    expect(await codeOf(l.client.exec({ argv: ['echo'] }, { timeoutMs: 60_000 }))).toBe('VSSH_POLICY');
  });

  it('refuses paths outside the allowed prefixes, also through .. and symlinks, and files over the size limit', async () => {
    const f = join(dir, 'small');
    writeFileSync(f, 'x');
    await l.client.put(f, join(dir, 'allowed/small'));
    expect(readFileSync(join(dir, 'allowed/small'), 'utf8')).toBe('x');
    for (const dest of [join(dir, 'outside/small'), join(dir, 'allowed/../outside/small'), join(dir, 'allowed/escape/small')]) {
      expect(await codeOf(l.client.put(f, dest)), dest).toBe('VSSH_POLICY');
    }
    expect(await codeOf(l.client.get(join(dir, 'allowed/escape/secret'), join(dir, 'got')))).toBe('VSSH_POLICY');
    expect(await codeOf(l.client.stat('/etc/passwd'))).toBe('VSSH_POLICY');
    const big = join(dir, 'big');
    writeFileSync(big, randomBytes(20_000));
    const err = await l.client.put(big, join(dir, 'allowed/big')).catch((e) => e);
    expect([err.code, /maxFileBytes/.test(err.message)]).toEqual(['VSSH_POLICY', true]);
  });

  it('refuses a tree that holds a symlink and then writes through it', async () => {
    const src = join(dir, 'sneaky');
    mkdirSync(src);
    symlinkSync(join(dir, 'outside'), join(src, 'link'));
    // a symlink pointing outside is not planted by a put any more ...
    expect(await codeOf(l.client.put(src, join(dir, 'allowed/sneaky')))).toBe('VSSH_POLICY');
    // ... and one made on the node some other way is not written through
    mkdirSync(join(dir, 'allowed/sneaky'), { recursive: true });
    symlinkSync(join(dir, 'outside'), join(dir, 'allowed/sneaky/link'));
    const through = join(dir, 'through');
    mkdirSync(join(through, 'link'), { recursive: true });
    writeFileSync(join(through, 'link/planted'), 'x');
    expect(await codeOf(l.client.put(through, join(dir, 'allowed/sneaky')))).toBe('VSSH_POLICY');
    expect(() => readFileSync(join(dir, 'outside/planted'))).toThrow();
  });

  it('refuses tunnels the policy does not list, before the client listens', async () => {
    expect(await codeOf(l.client.request('tunnel', { host: '127.0.0.1', port: 22 }))).toBe('VSSH_POLICY');
    const err = await l.client.tunnel(0, '127.0.0.1', 22).catch((e) => e);
    expect([err.code, err.message]).toEqual(['VSSH_POLICY', expect.stringContaining('refused by policy (allowTunnels)')]);
  });

  it('in read-only mode, refuses writes and unlisted commands', async () => {
    const ro = await loop({ policy: new Policy({ readOnly: true, allowCommands: ['uptime'] }) });
    try {
      const f = join(dir, 'ro');
      writeFileSync(f, 'x');
      const err = await ro.client.put(f, join(dir, 'ro-dest')).catch((e) => e);
      expect([err.code, /readOnly/.test(err.message)]).toEqual(['VSSH_POLICY', true]);
      expect(await codeOf(ro.client.exec({ argv: ['touch', join(dir, 'ro-touch')] }))).toBe('VSSH_POLICY');
      expect((await ro.client.exec({ argv: ['uptime'] })).exitCode).toBe(0);
      expect((await ro.client.stat(f)).size).toBe(1); // reads are fine
      expect(await codeOf(ro.client.request('tunnel', { host: '127.0.0.1', port: 22 }))).toBe('VSSH_POLICY');
    } finally {
      await ro.close();
    }
  });
});

describe('tunnels', () => {
  it('carry bytes both ways to a port the node reaches, and report an unreachable one', async () => {
    const l = await loop();
    const echo: Server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const port = (echo.address() as { port: number }).port;
    const tunnel = await l.client.tunnel(0, '127.0.0.1', port);
    const local = (tunnel.address() as { port: number }).port;
    try {
      const payload = randomBytes(5 * 1024 * 1024);
      const back = await new Promise<Buffer>((resolve, reject) => {
        const s = connect(local, '127.0.0.1');
        const got: Buffer[] = [];
        let n = 0;
        s.on('data', (d) => {
          got.push(d);
          n += d.length;
          if (n >= payload.length) {
            s.end();
            resolve(Buffer.concat(got));
          }
        });
        s.on('error', reject);
        s.write(payload);
      });
      expect(back.equals(payload)).toBe(true);
      echo.close();
      // a connection the node cannot carry is closed, and said
      const refused: string[] = [];
      const reported = await l.client.tunnel(0, '127.0.0.1', port, '127.0.0.1', { onError: (e) => refused.push(e.code) });
      const closed = await new Promise<boolean>((resolve) => {
        const s = connect((reported.address() as { port: number }).port, '127.0.0.1');
        s.on('error', () => resolve(true));
        s.on('close', () => resolve(true));
      });
      reported.close();
      expect([closed, refused]).toEqual([true, ['VSSH_UNREACHABLE']]);
      const err = await l.client.request('tunnel', { host: '127.0.0.1', port }).catch((e) => e);
      expect(err.code).toBe('VSSH_UNREACHABLE');
      expect(err.message).toContain('nothing listens');
    } finally {
      tunnel.close();
      echo.close();
      await l.close();
    }
  });
  it('keep each direction open after the other half-closes (a request, then end(), then the whole reply)', async () => {
    const l = await loop();
    // the target reads to the end of its input, then answers and closes: an HTTP/1.0 server, `nc -N`, sort
    const reverse: Server = createServer({ allowHalfOpen: true }, (s) => {
      const got: Buffer[] = [];
      s.on('data', (d) => got.push(d));
      s.on('end', () => s.end(Buffer.concat(got).reverse()));
    });
    // the target speaks first and half-closes, then still reads what comes: a banner, then input counted
    const banner: Server = createServer({ allowHalfOpen: true }, (s) => {
      let n = 0;
      s.end('hello\n');
      s.on('data', (d) => (n += d.length));
      s.on('end', () => void (counted = n));
    });
    let counted = -1;
    await Promise.all([reverse, banner].map((sv) => new Promise<void>((r) => sv.listen(0, '127.0.0.1', () => r()))));
    const t1 = await l.client.tunnel(0, '127.0.0.1', (reverse.address() as { port: number }).port);
    const t2 = await l.client.tunnel(0, '127.0.0.1', (banner.address() as { port: number }).port);
    try {
      const payload = randomBytes(3 * 1024 * 1024);
      const back = await new Promise<Buffer>((resolve, reject) => {
        const s = connect({ port: (t1.address() as { port: number }).port, host: '127.0.0.1', allowHalfOpen: true });
        const got: Buffer[] = [];
        s.on('data', (d) => got.push(d));
        s.on('end', () => resolve(Buffer.concat(got)));
        s.on('error', reject);
        s.end(payload);
      });
      expect(back.equals(Buffer.from(payload).reverse())).toBe(true);
      const heard = await new Promise<string>((resolve, reject) => {
        const s = connect({ port: (t2.address() as { port: number }).port, host: '127.0.0.1', allowHalfOpen: true });
        let text = '';
        s.on('data', (d) => (text += d.toString()));
        s.on('end', () => setTimeout(() => s.end(Buffer.alloc(70_000, 1)), 50)); // answer after the banner ended
        s.on('close', () => resolve(text));
        s.on('error', reject);
      });
      expect(heard).toBe('hello\n');
      expect(await waitFor(() => counted === 70_000, 5000)).toBe(true);
    } finally {
      t1.close();
      t2.close();
      reverse.close();
      banner.close();
      await l.close();
    }
  });
});

describe('the interactive shell', () => {
  it('runs on a real terminal of the asked size, and follows a resize', async () => {
    const l = await loop();
    try {
      const call = await l.client.call('shell', { cols: 100, rows: 30, command: 'stty size; tty; read x; stty size' });
      let out = '';
      const next = async (until: RegExp): Promise<void> => {
        while (!until.test(out)) {
          const item = await call.next();
          if (!item) return;
          if (item.kind === 'data') out += item.bytes.toString();
        }
      };
      await next(/\/dev\/pts\/\d+/);
      expect(out).toContain('30 100');
      call.stream.msg({ resize: { cols: 120, rows: 40 } });
      await new Promise((r) => setTimeout(r, 100));
      await call.stream.write(0, Buffer.from('\r'));
      await next(/40 120/);
      expect(out).toContain('40 120');
      expect((await call.result()).exitCode).toBe(0);
    } finally {
      await l.close();
    }
  });
});

describe('TLS and connections', () => {
  it('serves TLS 1.3 pinned to the node key, and refuses a man in the middle', async () => {
    const tlsDir = join(dir, 'tls');
    const real = await ensureTls(join(tlsDir, 'a.pem'), join(tlsDir, 'a.key'), ['127.0.0.1'], 'meshpop-vssh');
    const fake = await ensureTls(join(tlsDir, 'b.pem'), join(tlsDir, 'b.key'), ['127.0.0.1'], 'meshpop-vssh');
    const l = await loop({ tls: real });
    // The middle terminates TLS with its own certificate and relays to the real daemon.
    const mitm = createTlsServer({ cert: fake.cert, key: fake.key }, (s) => {
      const up = tlsConnect({ port: l.address.port, host: '127.0.0.1', rejectUnauthorized: false });
      s.pipe(up).pipe(s);
      s.on('error', () => up.destroy());
      up.on('error', () => s.destroy());
    });
    await new Promise<void>((r) => mitm.listen(0, '127.0.0.1', () => r()));
    try {
      expect((await l.client.exec({ argv: ['echo', 'over tls'] })).stdout.toString()).toBe('over tls\n');
      expect((await l.client.hello()).tlsFingerprint).toBe(real.fingerprint);
      const victim = new VsshClient({ name: 'n1', id: 'n1', addresses: [{ host: '127.0.0.1', port: (mitm.address() as { port: number }).port, tls: true, via: 'public' }] }, l.key);
      expect(await codeOf(victim.exec({ argv: ['true'] }))).toBe('VSSH_TLS');
      // a wrong key over TLS is an authentication failure, said at once, not "unreachable"
      const wrongKey = new VsshClient({ name: 'n1', id: 'n1', addresses: [l.address] }, randomBytes(32));
      expect(await codeOf(wrongKey.exec({ argv: ['true'] }))).toBe('VSSH_AUTH_BAD_MAC');
      // a plain client cannot talk to a TLS daemon
      const plain = new VsshClient({ name: 'n1', id: 'n1', addresses: [{ ...l.address, tls: false }] }, l.key, { retries: 0, connectTimeoutMs: 1000 });
      expect(await codeOf(plain.exec({ argv: ['true'] }))).toMatch(/VSSH_CONNECTION_LOST|VSSH_UNREACHABLE/);
      plain.close();
    } finally {
      mitm.close();
      await l.close();
    }
  });

  it('gives up on an address that accepts TCP and never answers, and tries the next', async () => {
    const silent: Socket[] = [];
    const blackhole = createServer((s) => void silent.push(s)); // accepts, reads, never says a word
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    const l = await loop();
    try {
      const hole = { host: '127.0.0.1', port: (blackhole.address() as { port: number }).port, tls: false, via: 'static' as const };
      const client = new VsshClient({ name: 'n1', id: 'n1', addresses: [hole, l.address] }, l.key, { connectTimeoutMs: 500, retries: 0 });
      const started = Date.now();
      expect((await client.exec({ argv: ['echo', 'second address'] })).stdout.toString()).toBe('second address\n');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(client.address?.port).toBe(l.address.port);
      client.close();
      const only = new VsshClient({ name: 'n1', id: 'n1', addresses: [hole] }, l.key, { connectTimeoutMs: 300, retries: 0 });
      const err = await only.exec({ argv: ['true'] }).catch((e) => e);
      expect([err.code, err.message]).toEqual(['VSSH_UNREACHABLE', expect.stringContaining(`127.0.0.1:${hole.port} (static): no answer within 300 ms`)]);
    } finally {
      for (const s of silent) s.destroy();
      blackhole.close();
      await l.close();
    }
  });

  it('serves plain and TLS listeners from one daemon, and falls back from plain to TLS', async () => {
    const tls = await ensureTls(join(dir, 'tls/mixed.pem'), join(dir, 'tls/mixed.key'), ['127.0.0.2'], 'meshpop-vssh');
    const l = await loop({ tls, hosts: [{ host: '127.0.0.1', tls: false }, { host: '127.0.0.2', tls: true }] });
    try {
      expect(l.daemon.addresses.map((a) => [a.host, a.tls])).toEqual([['127.0.0.1', false], ['127.0.0.2', true]]);
      const port = l.daemon.port;
      // the mesh address plain, the other with TLS: both answer, on the same port
      expect((await l.client.exec({ argv: ['echo', 'plain'] })).stdout.toString()).toBe('plain\n');
      const overTls = new VsshClient({ name: 'n1', id: 'n1', addresses: [{ host: '127.0.0.2', port, tls: true, via: 'tailscale' }] }, l.key);
      expect((await overTls.hello()).tlsFingerprint).toBe(tls.fingerprint);
      overTls.close();
      // plain first at the TLS listener (what a wrong nodes.json or a Tailscale-only daemon gives), then TLS: the TLS one serves
      const fallback = new VsshClient({ name: 'n1', id: 'n1', addresses: [{ host: '127.0.0.2', port, tls: false, via: 'static' }, { host: '127.0.0.2', port, tls: true, via: 'tailscale' }] }, l.key, { retries: 0, connectTimeoutMs: 1000 });
      expect((await fallback.exec({ argv: ['echo', 'fell back'] })).stdout.toString()).toBe('fell back\n');
      expect(fallback.address?.tls).toBe(true);
      fallback.close();
    } finally {
      await l.close();
    }
  });

  it('reconnects after the daemon restarts, and says which addresses failed when it cannot', async () => {
    const key = randomBytes(32);
    const first = await loop({ key });
    const port = first.address.port;
    const client = new VsshClient({ name: 'n1', id: 'n1', addresses: [first.address] }, key, { retries: 3 });
    expect((await client.exec({ argv: ['true'] })).exitCode).toBe(0);
    await first.close();
    expect(await waitFor(() => !client.connected)).toBe(true);
    const again = await loop({ key, port });
    try {
      expect((await client.exec({ argv: ['echo', 'back'] })).stdout.toString()).toBe('back\n');
    } finally {
      client.close();
      await again.close();
    }
    const err = await client.exec({ argv: ['true'] }).catch((e) => e);
    expect(err.code).toBe('VSSH_UNREACHABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });
});
