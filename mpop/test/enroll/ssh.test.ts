import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMpopError } from '../../src/errors.js';
import { sshConnect, SshTarget } from '../../src/enroll/ssh.js';
import { RemoteHost } from '../../src/enroll/remote.js';
import { hasSshd, Sshd, startSshd } from './sshd.js';

const root = process.getuid?.() === 0;

/** The SSH side of enroll against a real sshd on loopback: host keys, the ways to log in, and their faults. */
describe.skipIf(!root || !hasSshd())('enroll over a real sshd: host keys and logins', () => {
  let sshd: Sshd;
  let home: string;
  const known = (): string => join(home, 'mpop', 'known_hosts');
  const target = (over: Partial<SshTarget> = {}): SshTarget => ({ host: '127.0.0.1', port: sshd.port, user: 'root', knownHosts: known(), timeoutMs: 10_000, ...over });
  const failure = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
    try {
      await p;
    } catch (err) {
      if (isMpopError(err)) return { code: err.code, message: err.message };
      throw err;
    }
    throw new Error('it did not fail');
  };

  beforeAll(async () => {
    sshd = await startSshd();
    home = mkdtempSync(join(tmpdir(), 'mpop-enroll-home-'));
  }, 30_000);
  afterAll(async () => {
    await sshd?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses an unknown host key, showing the fingerprint ssh-keygen gives, and writes nothing', async () => {
    const f = await failure(sshConnect(target(), { keyFile: sshd.rootKey }));
    expect(f.code).toBe('MPOP_HOST_KEY');
    expect(f.message).toContain(`ssh-ed25519 ${sshd.fingerprint}`);
    expect(f.message).toContain(`--accept-host-key ${sshd.fingerprint}`);
    expect(existsSync(known())).toBe(false);
    // Refused before any credential was sent: sshd saw no login attempt.
    expect(sshd.log()).not.toMatch(/Accepted|Failed publickey/);
  });

  it('refuses an accepted fingerprint that is not the host\'s', async () => {
    const f = await failure(sshConnect(target({ acceptHostKey: 'SHA256:' + 'A'.repeat(43) }), { keyFile: sshd.rootKey }));
    expect(f.code).toBe('MPOP_HOST_KEY');
    expect(f.message).toContain('not the SHA256:AAAA');
    expect(existsSync(known())).toBe(false);
  });

  it('accepts the right fingerprint once, logs in with a key, and knows the host afterwards', async () => {
    const s = await sshConnect(target({ acceptHostKey: sshd.fingerprint }), { keyFile: sshd.rootKey });
    try {
      expect(s.hostKey).toEqual({ type: 'ssh-ed25519', fingerprint: sshd.fingerprint, status: 'added' });
      expect(s.banner).toMatch(/^SSH-2\.0-OpenSSH/);
      expect((await s.run('id -u')).stdout.trim()).toBe('0');
    } finally {
      s.close();
    }
    expect(readFileSync(known(), 'utf8')).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519 ${sshd.fingerprint}\n`);
    const again = await sshConnect(target(), { keyFile: sshd.rootKey });
    expect(again.hostKey.status).toBe('known');
    again.close();
  });

  it('runs argv with hostile words intact, and as root through the session', async () => {
    const s = await sshConnect(target(), { keyFile: sshd.rootKey });
    try {
      const host = new RemoteHost(s, '127.0.0.1');
      host.privilege = 'root';
      const words = ["it's", '$(touch /tmp/pwned-mpop)', 'a b', '`id`', ';', '*'];
      const r = await host.run(['printf', '%s\\n', ...words], { root: true });
      expect(r.stdout.split('\n').slice(0, -1)).toEqual(words);
      expect(existsSync('/tmp/pwned-mpop')).toBe(false);
      const sh = await host.sh('printf "%s|" "$@"', ['x y', '$HOME']);
      expect(sh.stdout).toBe('x y|$HOME|');
      const late = await s.run('sleep 30', { timeoutMs: 500 }).catch((e: Error & { code?: string }) => e.code);
      expect(late).toBe('MPOP_TIMEOUT');
    } finally {
      s.close();
    }
  });

  it('a connection killed mid-command (kill -9 of its sshd) is an error, not a hang or a crash', async () => {
    const s = await sshConnect(target(), { keyFile: sshd.rootKey });
    try {
      const f = await failure(s.run('kill -9 $PPID; sleep 5', { timeoutMs: 20_000 }));
      expect(f.code).toBe('MPOP_UNREACHABLE');
      expect(f.message).toContain('the SSH connection dropped');
      const after = await failure(s.run('true', { timeoutMs: 5000 }));
      expect(['MPOP_ENROLL', 'MPOP_TIMEOUT', 'MPOP_UNREACHABLE']).toContain(after.code);
    } finally {
      s.close();
    }
  });

  it('says an encrypted key needs its passphrase, and opens it with the passphrase', async () => {
    const f = await failure(sshConnect(target(), { keyFile: sshd.encryptedKey }));
    expect(f).toMatchObject({ code: 'MPOP_USAGE' });
    expect(f.message).toContain('--passphrase-file');
    const wrong = await failure(sshConnect(target(), { keyFile: sshd.encryptedKey, passphrase: 'not it' }));
    expect(wrong.code).toBe('MPOP_USAGE');
    const s = await sshConnect(target(), { keyFile: sshd.encryptedKey, passphrase: readFileSync(sshd.passphraseFile, 'utf8').trim() });
    expect((await s.run('id -un')).stdout.trim()).toBe('root');
    s.close();
  });

  it('logs in with an RSA key, and through an ssh-agent holding the key (SSH_AUTH_SOCK)', async () => {
    const rsa = join(home, 'rsa_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-f', rsa]);
    appendFileSync(join(sshd.dir, 'authorized', 'root'), readFileSync(rsa + '.pub'));
    const s = await sshConnect(target(), { keyFile: rsa });
    expect((await s.run('id -u')).stdout.trim()).toBe('0');
    s.close();
    const sock = join(home, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]);
    try {
      execFileSync('ssh-add', ['-q', sshd.rootKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const a = await sshConnect(target(), { agent: sock });
      expect((await a.run('id -un')).stdout.trim()).toBe('root');
      a.close();
      // An agent with no key the server takes is a refused login that names what was tried.
      execFileSync('ssh-add', ['-q', '-D'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const f = await failure(sshConnect(target(), { agent: sock }));
      expect(f.message).toContain('refused the login (tried: agent)');
    } finally {
      process.kill(pid, 'SIGTERM');
    }
  }, 30_000);

  it('refuses a wrong password plainly, and logs in with the right one', async () => {
    const f = await failure(sshConnect(target({ user: sshd.user }), { password: 'wrong password' }));
    expect(f.code).toBe('MPOP_ENROLL');
    expect(f.message).toContain(`${sshd.user}@127.0.0.1:${sshd.port} refused the login (tried: password)`);
    expect(f.message).not.toContain('wrong password');
    const s = await sshConnect(target({ user: sshd.user }), { password: sshd.password });
    expect((await s.run('id -un')).stdout.trim()).toBe(sshd.user);
    s.close();
  });

  it('refuses a changed host key loudly, even with --accept-host-key', async () => {
    const text = readFileSync(known(), 'utf8');
    writeFileSync(known(), text.replace(sshd.fingerprint, 'SHA256:' + 'B'.repeat(43)));
    try {
      for (const accept of [undefined, sshd.fingerprint]) {
        const f = await failure(sshConnect(target(accept ? { acceptHostKey: accept } : {}), { keyFile: sshd.rootKey }));
        expect(f.code).toBe('MPOP_HOST_KEY');
        expect(f.message).toContain(`THE HOST KEY OF [127.0.0.1]:${sshd.port} HAS CHANGED`);
        expect(f.message).toContain(`it is now ssh-ed25519 ${sshd.fingerprint}`);
        expect(f.message).toMatch(/delete line 2 of .*known_hosts/);
      }
    } finally {
      writeFileSync(known(), text);
    }
  });

  it('a truncated known_hosts line is a clear error, not a crash', async () => {
    const text = readFileSync(known(), 'utf8');
    writeFileSync(known(), text + '[127.0.0.1]:1 ssh-ed25519\n');
    try {
      const f = await failure(sshConnect(target(), { keyFile: sshd.rootKey }));
      expect(f.code).toBe('MPOP_HOST_KEY');
      expect(f.message).toMatch(/known_hosts:3: not a known host line/);
    } finally {
      writeFileSync(known(), text);
    }
  });

  it('an unreachable port is MPOP_UNREACHABLE; no credentials at all is a usage error', async () => {
    const f = await failure(sshConnect(target({ port: 1 }), { keyFile: sshd.rootKey }));
    expect(f.code).toBe('MPOP_UNREACHABLE');
    expect(f.message).toContain('cannot reach 127.0.0.1:1: ECONNREFUSED');
    // A port that takes the connection and never speaks SSH is given up on after the timeout, and said so.
    const held: Socket[] = [];
    const silent = createServer((sock) => void held.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as { port: number }).port;
      const mute = await failure(sshConnect(target({ port, timeoutMs: 1500 }), { keyFile: sshd.rootKey }));
      expect(mute.code).toBe('MPOP_UNREACHABLE');
      expect(mute.message).toContain('took the connection but no SSH handshake came within 2 s');
    } finally {
      for (const h of held) h.destroy();
      silent.close();
    }
    const none = await failure(sshConnect(target(), {}));
    expect(none.code).toBe('MPOP_USAGE');
  });
});
