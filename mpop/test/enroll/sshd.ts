import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../fleet.js';

/**
 * A real OpenSSH sshd on 127.0.0.1 for the enroll tests (root only): its own ed25519 host key, root's
 * authorized_keys holding a test key (and an encrypted one), and a test user made for the run with a known
 * password and no sudo, removed by stop(). PAM is off, so the password is checked against /etc/shadow.
 */
export interface Sshd {
  port: number;
  dir: string;
  /** what `ssh-keygen -lf` says of the host key: SHA256:... */
  fingerprint: string;
  /** root's key (no passphrase) and an encrypted one (its passphrase in passphraseFile) */
  rootKey: string;
  encryptedKey: string;
  passphraseFile: string;
  user: string;
  password: string;
  log(): string;
  /** grantSudo gives the test user passwordless sudo (a file in /etc/sudoers.d) until revoked or stop() */
  grantSudo(): () => void;
  stop(): Promise<void>;
}

/** hasSudo tells whether sudo is installed. */
export const hasSudo = (): boolean => {
  try {
    execFileSync('sudo', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export const hasSshd = (): boolean => {
  try {
    execFileSync('/usr/sbin/sshd', ['-V'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // `sshd -V` prints its version and exits 1 on older releases; only a missing binary is "absent".
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
};

const keygen = (file: string, passphrase = ''): void => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'mpop-enroll-test', '-f', file], { stdio: 'ignore' });
};

/** startSshd starts the sshd and waits until it accepts connections. */
export async function startSshd(): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'mpop-sshd-'));
  chmodSync(dir, 0o755);
  const user = `mpe${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  let child: ChildProcess | undefined;
  try {
    keygen(join(dir, 'host_ed25519'));
    keygen(join(dir, 'root_key'));
    const phrase = `phrase ${randomBytes(6).toString('hex')}`;
    keygen(join(dir, 'enc_key'), phrase);
    writeFileSync(join(dir, 'passphrase'), phrase + '\n', { mode: 0o600 });
    mkdirSync(join(dir, 'authorized'), { mode: 0o755 });
    writeFileSync(join(dir, 'authorized', 'root'), readFileSync(join(dir, 'root_key.pub'), 'utf8') + readFileSync(join(dir, 'enc_key.pub'), 'utf8'), { mode: 0o600 });
    execFileSync('useradd', ['-M', '-d', '/nonexistent', '-s', '/bin/sh', user], { stdio: 'ignore' });
    execFileSync('chpasswd', [], { input: `${user}:${password}\n` });
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized')}/%u`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'MaxAuthTries 6',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n'));
    const fd = openSync(join(dir, 'sshd.log'), 'a');
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => connect(port, '127.0.0.1').once('connect', function (this: import('node:net').Socket) { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
      if (up) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${readFileSync(join(dir, 'sshd.log'), 'utf8')}`);
      await sleep(100);
    }
    const fingerprint = execFileSync('ssh-keygen', ['-lf', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const proc = child;
    const sudoers = `/etc/sudoers.d/mpop-enroll-${user}`;
    const revoke = (): void => rmSync(sudoers, { force: true });
    return {
      port,
      dir,
      fingerprint,
      rootKey: join(dir, 'root_key'),
      encryptedKey: join(dir, 'enc_key'),
      passphraseFile: join(dir, 'passphrase'),
      user,
      password,
      log: () => readFileSync(join(dir, 'sshd.log'), 'utf8'),
      grantSudo: () => {
        writeFileSync(sudoers, `${user} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
        return revoke;
      },
      stop: async () => {
        revoke();
        if (proc.exitCode === null && proc.signalCode === null) {
          const done = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await done;
        }
        try { execFileSync('userdel', [user], { stdio: 'ignore' }); } catch { /* gone */ }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    try { execFileSync('userdel', [user], { stdio: 'ignore' }); } catch { /* never made */ }
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
