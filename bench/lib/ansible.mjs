// ansible: Ansible's ad-hoc commands and parallel-ssh against the sshds (sshds.mjs), set up as a user
// tuning them for speed would: Ansible with pipelining, a known Python (no interpreter discovery),
// ControlPersist connections kept between runs, no host key checks and no compression on loopback.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cleanup.mjs';
import { which } from './sshd.mjs';

/** ANSIBLE_TUNING says in words what ansibleSetup sets, for the page. */
export const ANSIBLE_TUNING =
  'Ansible runs with `pipelining = True` (the module goes to `python3` on its stdin: one ssh session per host), `interpreter_python = /usr/bin/python3` (no interpreter discovery round trip), ' +
  '`ssh_args = -o ControlMaster=auto -o ControlPersist=600s` (the default without `-C`: no compression on loopback; connections kept open between runs, opened by an untimed first run), `host_key_checking = False`, forks = the host count';

/**
 * ansibleSetup writes an INI inventory of `sshds` (one host per port: `hN ansible_host=127.0.0.1
 * ansible_port=P`), a parallel-ssh host file, and the environment that configures Ansible (its home,
 * temp and control path folders in a temp dir, never the user's ~/.ansible). Returns { inventory,
 * hosts, env, names }.
 */
export function ansibleSetup(sshds) {
  const dir = tempDir('meshpop-bench-ansible-');
  const names = sshds.ports.map((_, i) => `h${i + 1}`);
  const inventory = join(dir, 'inventory.ini');
  writeFileSync(inventory, ['[fleet]', ...sshds.ports.map((p, i) => `${names[i]} ansible_host=127.0.0.1 ansible_port=${p}`), ''].join('\n'));
  const hosts = join(dir, 'hosts.txt');
  writeFileSync(hosts, sshds.ports.map((p) => `${sshds.user}@127.0.0.1:${p}`).join('\n') + '\n');
  for (const d of ['home', 'tmp', 'cp']) mkdirSync(join(dir, d));
  // An empty config file of its own, so that no ansible.cfg of the machine or the working folder applies.
  const config = join(dir, 'ansible.cfg');
  writeFileSync(config, '[defaults]\n');
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: config,
    ANSIBLE_HOME: join(dir, 'home'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=600s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o LogLevel=ERROR',
    ANSIBLE_PRIVATE_KEY_FILE: sshds.key,
    ANSIBLE_REMOTE_USER: sshds.user,
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
  };
  return { dir, inventory, hosts, env, names };
}

/** ansibleArgs is the ad-hoc command line that runs `true` on every host with `module` (command or raw), forks = hosts. */
export function ansibleArgs(setup, module) {
  return ['all', '-i', setup.inventory, '-m', module, '-a', 'true', '-f', String(setup.names.length)];
}

/** psshArgs is the parallel-ssh command line that runs `true` on every host, `hosts` at once, no time limit. */
export function psshArgs(setup, sshds) {
  return ['-h', setup.hosts, '-p', String(setup.names.length), '-t', '0', '-x', sshds.sshOptions.join(' '), 'true'];
}

/** PSSH is the parallel-ssh program (Debian names it parallel-ssh; elsewhere pssh). */
export const PSSH = which('parallel-ssh') ? 'parallel-ssh' : 'pssh';

/** checkAnsible throws unless Ansible's output says every one of `n` hosts succeeded (CHANGED or SUCCESS). */
export function checkAnsible(n) {
  return (out) => {
    const ok = out.split('\n').filter((l) => /\| (CHANGED|SUCCESS) \|/.test(l)).length;
    if (ok !== n) throw new Error(`ansible succeeded on ${ok} of ${n} hosts: ${out.split('\n').filter((l) => / \| /.test(l) && !/CHANGED|SUCCESS/.test(l)).slice(0, 3).join(' / ')}`);
  };
}

/** checkPssh throws unless parallel-ssh's output says every one of `n` hosts succeeded. */
export function checkPssh(n) {
  return (out) => {
    const ok = out.split('\n').filter((l) => /\[SUCCESS\]/.test(l)).length;
    if (ok !== n) throw new Error(`parallel-ssh succeeded on ${ok} of ${n} hosts: ${out.split('\n').filter((l) => /\[FAILURE\]/.test(l)).slice(0, 3).join(' / ')}`);
  };
}

/** ansibleVersions returns the versions of ansible-core and parallel-ssh. */
export function ansibleVersions() {
  const a = spawnSync('ansible', ['--version'], { encoding: 'utf8' }).stdout?.match(/core ([\d.]+)/)?.[1] ?? 'unknown';
  const p = spawnSync(PSSH, ['--version'], { encoding: 'utf8' });
  return { 'ansible-core': a, 'parallel-ssh': `${p.stdout ?? ''}${p.stderr ?? ''}`.trim().match(/[\d.]+/)?.[0] ?? 'unknown' };
}
