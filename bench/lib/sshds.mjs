// sshds: the OpenSSH side of the fleet benchmarks: `count` sshd listeners on 127.0.0.1, each port a host
// for Ansible and parallel-ssh. One sshd process listens on at most 16 sockets (OpenSSH's
// MAX_LISTEN_SOCKS), so there is one sshd per 16 ports; sshd forks (and re-executes) a process of its own
// for every connection anyway, so how many listening processes there are is not what the clients time.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup, ownChild, tempDir } from './cleanup.mjs';
import { run } from './spawn.mjs';
import { which } from './sshd.mjs';

/** PER_SSHD is how many ports one sshd listens on (OpenSSH's MAX_LISTEN_SOCKS). */
export const PER_SSHD = 16;

/** freePorts returns `n` distinct TCP ports of 127.0.0.1 that nothing listened on a moment ago. */
async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * startSshds runs ceil(count / 16) OpenSSH servers as child processes, together listening on `count`
 * free ports of 127.0.0.1, with one host key and one client key (ed25519, made in a temp dir) and
 * OpenSSH's defaults except what a fleet needs: `MaxStartups` raised to `count` (the default 10:30:100
 * drops connections beyond 10 unauthenticated ones at once, which a fan-out to 100 hosts always has).
 * As root with `unshare`, each runs in a mount namespace where the home folder is empty (as startSshd:
 * bash started by sshd would read ~/.bashrc). Returns { ports, user, key, sshOptions, isolatedHome,
 * stop() }: `sshOptions` are the ssh client options for these servers (key, no host key checks, batch).
 */
export async function startSshds(count) {
  const sshd = which('sshd');
  if (!sshd || !which('ssh')) throw new Error('sshd and ssh are needed (apt-get install openssh-server openssh-client)');
  const dir = tempDir('meshpop-bench-sshds-');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-host', '-f', join(dir, 'host_key')]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-client', '-f', join(dir, 'id')]);
  copyFileSync(join(dir, 'id.pub'), join(dir, 'authorized_keys'));
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { mode: 0o755 });
    onCleanup(() => rmdirSync('/run/sshd'));
  }
  const ports = await freePorts(count);
  const me = os.userInfo();
  const isolatedHome = process.getuid?.() === 0 && !!which('unshare') && !!which('mount');
  const empty = join(dir, 'home');
  mkdirSync(empty, { mode: 0o700 });
  const servers = [];
  for (let i = 0; i < ports.length; i += PER_SSHD) {
    const mine = ports.slice(i, i + PER_SSHD);
    const config = join(dir, `sshd_config.${i / PER_SSHD}`);
    writeFileSync(
      config,
      [
        'ListenAddress 127.0.0.1',
        ...mine.map((p) => `Port ${p}`),
        `HostKey ${join(dir, 'host_key')}`,
        'PermitRootLogin prohibit-password',
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PidFile none',
        `MaxStartups ${Math.max(count, 10)}`,
        '',
      ].join('\n'),
    );
    const child = isolatedHome
      ? spawn('unshare', ['--mount', 'sh', '-c', 'mount --make-rprivate / && mount --bind "$1" "$2" && exec "$3" -D -e -f "$4"', 'sh', empty, me.homedir, sshd, config], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const owned = ownChild(child);
    let log = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (log = (log + chunk).slice(-8000)));
    servers.push({ owned, mine, log: () => log });
  }
  for (const s of servers) {
    for (let i = 0; !s.mine.every((p) => s.log().includes(`Server listening on 127.0.0.1 port ${p}`)); i++) {
      if (s.owned.exited() || i > 400) throw new Error(`sshd did not start on 127.0.0.1:${s.mine.join(',')}: ${s.log().trim().slice(-500)}`);
      await sleep(25);
    }
  }
  const key = join(dir, 'id');
  return {
    ports,
    user: me.username,
    key,
    dir,
    isolatedHome,
    processes: servers.length,
    sshOptions: ['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'],
    stop: () => Promise.all(servers.map((s) => s.owned.stop())),
  };
}
