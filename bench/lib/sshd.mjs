import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup, ownChild, tempDir } from './cleanup.mjs';
import { run } from './spawn.mjs';

/** which returns the path of executable `cmd` on PATH or in the sbin folders (where sshd lives), or undefined. */
export function which(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** freePort returns a TCP port on 127.0.0.1 that nothing listened on a moment ago. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * startSshd runs an OpenSSH server of its own as a child process on a free port of 127.0.0.1, with a host
 * key and a client key made for it in a temp dir (ed25519), and everything else at OpenSSH's defaults.
 *
 * When running as root with `unshare` available, sshd runs in a mount namespace of its own where the
 * user's home is an empty folder: sshd starts every command through the user's login shell, and bash
 * run by sshd reads ~/.bashrc, so a heavy rc file (pyenv, nvm, conda) would otherwise be timed as ssh.
 * Nothing outside that namespace sees the change. `isolatedHome` says whether this was done.
 *
 * Returns { port, target, ssh, scp, rsh, control, startMaster(), stop(), isolatedHome }: the options
 * for `ssh` and `scp`, the `-e` string for rsync, the options that make `ssh` join a ControlMaster,
 * startMaster() to open that master connection (`ssh -M -N`, a child process), and stop() to end the
 * master and the server. cleanup() does the same if they are still running.
 */
export async function startSshd() {
  const sshd = which('sshd');
  if (!sshd || !which('ssh')) throw new Error('sshd and ssh are needed (apt-get install openssh-server openssh-client)');
  const dir = tempDir('meshpop-bench-sshd-');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-host', '-f', join(dir, 'host_key')]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-client', '-f', join(dir, 'id')]);
  copyFileSync(join(dir, 'id.pub'), join(dir, 'authorized_keys'));
  const sftp = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/libexec/sftp-server'].find(existsSync) ?? 'internal-sftp';
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      'PermitRootLogin prohibit-password',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PidFile none',
      `Subsystem sftp ${sftp}`,
      '',
    ].join('\n'),
  );
  // The privilege separation folder, which the Debian service would create at boot.
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 });
    onCleanup(() => rmdirSync('/run/sshd'));
  }
  const port = await freePort();
  const me = os.userInfo();
  const isolatedHome = process.getuid?.() === 0 && !!which('unshare') && !!which('mount');
  let child;
  if (isolatedHome) {
    const empty = join(dir, 'home');
    mkdirSync(empty, { mode: 0o700 });
    const script = 'mount --make-rprivate / && mount --bind "$1" "$2" && exec "$3" -D -e -f "$4" -p "$5"';
    child = spawn('unshare', ['--mount', 'sh', '-c', script, 'sh', empty, me.homedir, sshd, config, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    child = spawn(sshd, ['-D', '-e', '-f', config, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  const owned = ownChild(child);
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (log = (log + chunk).slice(-4000)));
  for (let i = 0; !log.includes(`Server listening on 127.0.0.1 port ${port}`); i++) {
    if (owned.exited() || i > 200) throw new Error(`sshd did not start on 127.0.0.1:${port}: ${log.trim().slice(-500)}`);
    await sleep(25);
  }

  const common = [
    '-F', '/dev/null',
    '-i', join(dir, 'id'),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
  ];
  const target = `${me.username}@127.0.0.1`;
  const controlPath = join(dir, 'cm-%r@%h:%p');
  const control = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=60'];
  const ssh = [...common, '-p', String(port)];
  let master;
  const endMaster = () => spawnSync('ssh', [...ssh, '-o', `ControlPath=${controlPath}`, '-O', 'exit', target], { stdio: 'ignore' });
  return {
    port,
    target,
    ssh,
    scp: [...common, '-P', String(port)],
    rsh: ['ssh', ...ssh].join(' '),
    control,
    isolatedHome,
    /** log returns the last 4000 characters sshd wrote (it logs every connection and session). */
    log: () => log,
    /** startMaster opens the connection that `control` joins, and waits until it answers `ssh -O check`. */
    async startMaster() {
      master = spawn('ssh', [...ssh, '-M', '-N', '-o', `ControlPath=${controlPath}`, target], { stdio: 'ignore' });
      onCleanup(() => master.exitCode === null && master.signalCode === null && (endMaster(), master.kill('SIGKILL')));
      for (let i = 0; spawnSync('ssh', [...ssh, '-o', `ControlPath=${controlPath}`, '-O', 'check', target], { stdio: 'ignore' }).status !== 0; i++) {
        if (i > 200 || master.exitCode !== null) throw new Error('the ssh ControlMaster connection did not come up');
        await sleep(25);
      }
    },
    async stop() {
      if (master && master.exitCode === null && master.signalCode === null) {
        const gone = new Promise((resolve) => master.once('exit', resolve));
        endMaster();
        await gone;
      }
      await owned.stop();
    },
  };
}

/** scpProtocol copies a small file in `dir` with `scp -v` through `sshd` (startSshd) and says which protocol it used: SFTP (OpenSSH 9.0 on) or the legacy SCP protocol. */
export function scpProtocol(sshd, dir) {
  const small = join(dir, 'probe.txt');
  writeFileSync(small, 'probe\n');
  const r = spawnSync('scp', ['-v', ...sshd.scp, small, `${sshd.target}:${small}.copy`], { encoding: 'utf8' });
  rmSync(small, { force: true });
  rmSync(`${small}.copy`, { force: true });
  if (r.status !== 0) throw new Error(`scp failed: ${r.stderr.slice(-500)}`);
  if (/Sending subsystem: sftp/.test(r.stderr)) return 'SFTP protocol';
  if (/Sending command: scp /.test(r.stderr)) return 'legacy SCP protocol';
  return 'protocol it chose (not recognized from `scp -v`)';
}

/** negotiated returns the key exchange and the cipher that ssh and `sshd` (startSshd) agree on, read from `ssh -v`. */
export function negotiated(sshd) {
  const r = spawnSync('ssh', ['-o', 'LogLevel=DEBUG1', ...sshd.ssh, sshd.target, 'true'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr.slice(-500)}`);
  return { kex: r.stderr.match(/kex: algorithm: (\S+)/)?.[1] ?? 'unknown', cipher: r.stderr.match(/kex: client->server cipher: (\S+)/)?.[1] ?? 'unknown' };
}

/** sshVersions returns the versions of the OpenSSH client and of rsync. */
export function sshVersions() {
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.match(/OpenSSH_([\w.]+)/)?.[1] ?? 'unknown';
  const rsync = which('rsync') ? run('rsync', ['--version']).match(/version (\S+)/)?.[1] ?? 'unknown' : undefined;
  return { openssh: ssh, ...(rsync ? { rsync } : {}) };
}
