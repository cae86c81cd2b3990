import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Home, Served, VSSH_BIN, makeHome, serve, vssh, writeNodes } from './fixture.js';
import { waitFor } from './loopback.js';

/**
 * The built `vssh` bin against real `vssh serve` processes on loopback: a controller home (vssh/master)
 * and nodes whose daemons get their keys the ways the issue names.
 */
let ctl: Home;
let n1: Served;
beforeAll(async () => {
  ctl = await makeHome({ controller: true });
  n1 = await serve(ctl.env, ['--id', 'n1', '--name', 'n1']); // the controller serving itself
  writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, gone: { addresses: ['127.0.0.1:1'] } });
}, 60_000);
afterAll(async () => {
  await n1?.stop();
  ctl?.remove();
});

describe('vssh exec', () => {
  it('streams output and exits with the command\'s code', async () => {
    const r = await vssh(ctl.env, ['exec', 'n1', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([7, 'out', 'err']);
  });

  it('runs shell strings, forwards piped stdin, and prints JSON on request', async () => {
    const r = await vssh(ctl.env, ['exec', 'n1', '--shell', 'tr a-z A-Z; echo "$X"', '--env', 'X=y', '--json'], { input: 'piped\n' });
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.node, j.exitCode, j.stdout]).toEqual(['n1', 0, 'PIPED\ny\n']);
  });

  it('exits 124 on a timeout, 2 on a bad command line, 255 when the node is unknown or down', async () => {
    const t = await vssh(ctl.env, ['exec', 'n1', '--timeout', '300ms', '--', 'sleep', '30']);
    expect([t.exitCode, t.stderr]).toEqual([124, expect.stringContaining('timed out')]);
    const bad = await vssh(ctl.env, ['exec', 'n1', '--timeout', 'soon', '--', 'true']);
    expect([bad.exitCode, bad.stderr]).toEqual([2, expect.stringContaining('"soon" is not a duration')]);
    const unknown = await vssh(ctl.env, ['exec', 'nope', '--', 'true']);
    expect([unknown.exitCode, unknown.stderr]).toEqual([255, expect.stringContaining('no node named "nope" (known: n1, gone)')]);
    const down = await vssh(ctl.env, ['exec', 'gone', '--', 'true']);
    expect([down.exitCode, down.stderr]).toEqual([255, expect.stringContaining('cannot reach gone: 127.0.0.1:1')]);
  });

  it('says which timeout the node applied when the request named none (the policy\'s maxTimeoutMs)', async () => {
    const node = await makeHome(); // its own home: the controller's daemon keeps its pid file
    const issued = await vssh(ctl.env, ['keys', 'issue', 'short', '--json']);
    await vssh(node.env, ['keys', 'import', JSON.parse(issued.stdout).command.split(' ').pop()]);
    const policy = join(node.dir, 'short-timeout.json');
    writeFileSync(policy, JSON.stringify({ maxTimeoutMs: 400, allowTunnels: ['127.0.0.1:9'] }));
    const d = await serve(node.env, ['--policy', policy]);
    writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, gone: { addresses: ['127.0.0.1:1'] }, short: { addresses: [`127.0.0.1:${d.port}`] } });
    try {
      const t = await vssh(ctl.env, ['exec', 'short', '--', 'sleep', '30']);
      expect([t.exitCode, t.stderr]).toEqual([124, expect.stringContaining('timed out after 400 ms on short')]);
      expect(t.stderr).not.toContain('undefined');
      // a tunnel the node's policy refuses is said at once, not "forwarding" and silence
      const tunnel = await vssh(ctl.env, ['tunnel', 'short', '0:127.0.0.1:80'], { timeout: 20_000 });
      expect([tunnel.exitCode, tunnel.stdout, tunnel.stderr]).toEqual([7, '', expect.stringContaining('refused by policy (allowTunnels)')]);
    } finally {
      writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, gone: { addresses: ['127.0.0.1:1'] } });
      await d.stop();
      node.remove();
    }
  }, 60_000);

  it('one daemon serves a plain and a TLS address; nodes.json chooses TLS per address', async () => {
    const node = await makeHome();
    const issued = await vssh(ctl.env, ['keys', 'issue', 'mixed', '--json']);
    await vssh(node.env, ['keys', 'import', JSON.parse(issued.stdout).command.split(' ').pop()]);
    const d = await serve(node.env, ['--tls-bind', '127.0.0.2']);
    try {
      expect(d.log()).not.toContain('error');
      const hosts = [`127.0.0.1:${d.port}`, `127.0.0.2:${d.port}`];
      // the TLS address tried plain first (as an old nodes.json with one `tls` would), then with TLS
      writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, gone: { addresses: ['127.0.0.1:1'] }, mixed: { addresses: [hosts[1]!, { address: hosts[1]!, tls: true }] } });
      const r = await vssh(ctl.env, ['exec', 'mixed', '--', 'echo', 'over tls']);
      expect([r.exitCode, r.stdout]).toEqual([0, 'over tls']);
      writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, gone: { addresses: ['127.0.0.1:1'] }, mixed: { addresses: [hosts[0]!] } });
      expect((await vssh(ctl.env, ['exec', 'mixed', '--', 'echo', 'plain'])).stdout).toBe('plain');
      const outside = await vssh(node.env, ['serve', '--bind', '192.0.2.1', '--port', '0']);
      expect([outside.exitCode, outside.stderr]).toEqual([6, expect.stringContaining('requires TLS: give it with --tls-bind')]);
    } finally {
      writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, gone: { addresses: ['127.0.0.1:1'] } });
      await d.stop();
      node.remove();
    }
  }, 60_000);

  it('does not hand the daemon\'s vault access to the commands it runs', async () => {
    const r = await vssh(ctl.env, ['exec', 'n1', '--shell', 'echo "${SV_PASSWORD_FILE:-unset} ${MESHPOP_HOME:-unset}"']);
    expect(r.stdout).toBe(`unset ${ctl.dir}`);
  });

  it('`vssh NODE` opens the shell on a terminal', async () => {
    const r = await vssh(ctl.env, ['n1', '--command', 'echo from-a-pty; tty']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/from-a-pty\r?\n\/dev\/pts\/\d+/);
  });
});

describe('vssh put, get, sync, ls, status', () => {
  it('copy trees both ways and skip what did not change', async () => {
    const src = join(ctl.dir, 'site');
    mkdirSync(join(src, 'css'), { recursive: true });
    writeFileSync(join(src, 'index.html'), '<h1>hi</h1>');
    writeFileSync(join(src, 'css/a.css'), 'body{}');
    const dest = join(ctl.dir, 'www');
    const first = await vssh(ctl.env, ['sync', src, `n1:${dest}`, '--json']);
    expect(JSON.parse(first.stdout)).toMatchObject({ files: 2, unchanged: 0 });
    const again = await vssh(ctl.env, ['sync', src, `n1:${dest}`]);
    expect(again.stdout).toContain('0 files copied');
    expect(again.stdout).toContain('2 unchanged');
    const back = await vssh(ctl.env, ['get', `n1:${dest}/index.html`, './back.html'], { cwd: ctl.dir }); // a relative destination
    expect(back.exitCode, back.stderr).toBe(0);
    expect(readFileSync(join(ctl.dir, 'back.html'), 'utf8')).toBe('<h1>hi</h1>');
    const ls = JSON.parse((await vssh(ctl.env, ['ls', `n1:${dest}`, '-R', '--hash', '--json'])).stdout);
    expect(ls.entries.map((e: { path: string }) => e.path)).toEqual(['css', 'css/a.css', 'index.html']);
    const wrongWay = await vssh(ctl.env, ['put', `n1:${dest}`, join(ctl.dir, 'x')]);
    expect([wrongWay.exitCode, wrongWay.stderr]).toEqual([2, expect.stringContaining('must be NODE:/absolute/path')]);
  });

  it('put and sync take several sources, --exclude / --include, and --dry-run', async () => {
    const base = join(ctl.dir, 'deploy');
    mkdirSync(join(base, 'bin'), { recursive: true });
    mkdirSync(join(base, 'lib/cache'), { recursive: true });
    writeFileSync(join(base, 'bin/run'), '#!/bin/sh\n');
    writeFileSync(join(base, 'lib/a.js'), 'a'.repeat(1500));
    writeFileSync(join(base, 'lib/a.js.map'), 'map');
    writeFileSync(join(base, 'lib/keep.map'), 'kept');
    writeFileSync(join(base, 'lib/cache/c'), 'c');
    writeFileSync(join(base, 'package.json'), '{}');
    const dest = join(ctl.dir, 'deployed');
    const args = [join(base, 'bin'), join(base, 'lib'), join(base, 'package.json'), `n1:${dest}`, '--include', 'keep.map', '--exclude', '*.map', '--exclude=cache/'];
    const dry = await vssh(ctl.env, ['put', ...args, '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('send    lib/a.js (1.5 KiB)');
    expect(dry.stdout).toContain('dry run, nothing written: 4 files would be sent');
    expect(dry.stdout).toContain('excluded');
    expect(existsSync(dest)).toBe(false);
    const real = JSON.parse((await vssh(ctl.env, ['put', ...args, '--json'])).stdout);
    expect(real).toMatchObject({ files: 4, excluded: 2 });
    expect(readdirSync(join(dest, 'lib')).sort()).toEqual(['a.js', 'keep.map']);
    writeFileSync(join(dest, 'stray'), 'x');
    const plan = JSON.parse((await vssh(ctl.env, ['sync', ...args, '--delete', '-n', '--json'])).stdout);
    expect(plan.dryRun).toMatchObject({ send: [], delete: ['stray'], deleted: 1 });
    expect(existsSync(join(dest, 'stray'))).toBe(true);
    const bad = await vssh(ctl.env, ['put', join(base, 'bin'), `n1:${dest}`, '--exclude']);
    expect([bad.exitCode, bad.stderr]).toEqual([2, expect.stringContaining('--exclude needs a pattern')]);
    const getMany = await vssh(ctl.env, ['get', `n1:${dest}/bin`, `n1:${dest}/lib`, join(ctl.dir, 'x')]);
    expect(getMany.exitCode).toBe(2);
  });

  it('info, speed and tunnel work from the CLI', async () => {
    const info = JSON.parse((await vssh(ctl.env, ['info', 'n1', '--json'])).stdout);
    expect(info.hostname).toBe(hostname());
    const speed = JSON.parse((await vssh(ctl.env, ['speed', 'n1', '--mib', '16', '--json'])).stdout);
    expect(speed.upMBps).toBeGreaterThan(0);
    expect(speed.rttMs).toBeLessThan(1000);
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const tunnel = spawn(process.execPath, [VSSH_BIN, 'tunnel', 'n1', `0:127.0.0.1:${(echo.address() as { port: number }).port}`], { env: { ...process.env, ...ctl.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        tunnel.stdout!.on('data', (d) => {
          out += d;
          const m = /forwarding 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        tunnel.once('exit', (code) => reject(new Error(`tunnel exited ${code}`)));
      });
      const reply = await new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write('through the tunnel'));
        s.on('data', (d) => {
          resolve(d.toString());
          s.end();
        });
      });
      expect(reply).toBe('through the tunnel');
    } finally {
      tunnel.kill('SIGTERM');
      echo.close();
    }
  });

  it('status shows which nodes answer', async () => {
    const r = await vssh(ctl.env, ['status', '--json']);
    const s = JSON.parse(r.stdout);
    expect(s.daemon.running).toBe(true);
    expect(s.nodes.find((n: { node: string }) => n.node === 'n1')).toMatchObject({ reachable: true, version: '0.1.0' });
    expect(s.nodes.find((n: { node: string }) => n.node === 'gone')).toMatchObject({ reachable: false });
  });

  it('resumes a put after the daemon was killed mid-file, with no partial file at the destination', async () => {
    const node = await makeHome();
    const issued = await vssh(ctl.env, ['keys', 'issue', 'victim', '--json']);
    await vssh(node.env, ['keys', 'import', JSON.parse(issued.stdout).command.split(' ').pop()]);
    let d = await serve(node.env);
    writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] }, victim: { addresses: [`127.0.0.1:${d.port}`] } });
    const src = join(ctl.dir, 'big.bin');
    const data = randomBytes(200 * 1024 * 1024);
    writeFileSync(src, data);
    const destDir = join(node.dir, 'in');
    mkdirSync(destDir);
    const put = vssh(ctl.env, ['put', src, `victim:${destDir}/big.bin`]);
    const parts = (): string[] => readdirSync(destDir).filter((n) => n.endsWith('.vssh-part'));
    expect(await waitFor(() => parts().length === 1 && statSync(join(destDir, parts()[0]!)).size > 10 * 1024 * 1024, 20_000)).toBe(true);
    d.child.kill('SIGKILL');
    const cut = await put;
    expect(cut.exitCode).not.toBe(0);
    expect(existsSync(join(destDir, 'big.bin'))).toBe(false);
    d = await serve(node.env, [], d.port);
    try {
      const resumed = await vssh(ctl.env, ['put', src, `victim:${destDir}/big.bin`, '--json']);
      expect(resumed.exitCode).toBe(0);
      // only the rest crossed, and the summary says so (not the whole file, not an inflated rate)
      expect(JSON.parse(resumed.stdout).bytes).toBeLessThan(data.length - 10 * 1024 * 1024);
      expect(JSON.parse(resumed.stdout).bytes).toBeGreaterThan(0);
      expect(readFileSync(join(destDir, 'big.bin')).equals(data)).toBe(true);
      expect(parts()).toEqual([]);
    } finally {
      await d.stop();
      node.remove();
    }
  }, 120_000);
});

describe('vssh keys', () => {
  it('a node imports the key the controller issues; a daemon with another key is refused', async () => {
    const node = await makeHome();
    const issued = await vssh(ctl.env, ['keys', 'issue', 'far']);
    expect(issued.stdout).toMatch(/^vssh keys import vsk1\.[\w-]+\.[\w-]+\.[0-9a-f]{8}$/);
    const text = issued.stdout.trim().split(' ').pop()!;
    expect((await vssh(node.env, ['keys', 'import', text.slice(0, -1) + (text.endsWith('0') ? '1' : '0')])).exitCode).toBe(2); // a typo
    const imported = await vssh(node.env, ['keys', 'import'], { input: text + '\n' });
    expect(imported.exitCode).toBe(0);
    expect((await vssh(node.env, ['keys', 'import', text])).stderr).toContain('--force');
    const shown = await vssh(node.env, ['keys', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ master: null, nodeKey: 'vssh/node-key' });
    expect(shown.stdout).not.toContain(text.split('.')[2]);

    const d = await serve(node.env);
    const stranger = await makeHome({ controller: true }); // another controller, another master
    try {
      writeNodes(ctl, { far: { addresses: [`127.0.0.1:${d.port}`] } });
      writeNodes(stranger, { far: { addresses: [`127.0.0.1:${d.port}`] } });
      expect((await vssh(ctl.env, ['exec', 'far', '--', 'echo', 'ok'])).stdout).toBe('ok');
      const refused = await vssh(stranger.env, ['ls', 'far:/', '--json']);
      expect(refused.exitCode).toBe(5);
      expect(JSON.parse(refused.stdout).error.code).toBe('VSSH_AUTH_BAD_MAC');
      expect(d.log()).toContain('"code":"VSSH_AUTH_BAD_MAC"');
    } finally {
      await d.stop();
      node.remove();
      stranger.remove();
      writeNodes(ctl, { n1: { addresses: [`127.0.0.1:${n1.port}`] } });
    }
  }, 60_000);
});

describe('vssh install-service', () => {
  it('writes a unit that starts the daemon with the vault key file', async () => {
    const r = await vssh(ctl.env, ['install-service', '--dir', join(ctl.dir, 'units'), '--vault-key-file', '/k', '--policy', '/p.json', '--json']);
    expect(r.exitCode).toBe(0);
    const unit = readFileSync(JSON.parse(r.stdout).path, 'utf8');
    expect(unit).toMatch(/^ExecStart=.*run\.js serve --policy \/p\.json$/m);
    expect(unit).toContain('Environment=SV_KEY_FILE=/k');
    expect(unit).toContain('After=network-online.target wire-up.service');
    expect((await vssh(ctl.env, ['install-service', '--dir', join(ctl.dir, 'units')])).exitCode).toBe(2);
  });
});
