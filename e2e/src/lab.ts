import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The lab: real hosts on this machine. Each host is a network namespace with its own veth link to a
 * switch (a bridge in a namespace of its own), its own $MESHPOP_HOME and vault, and real `wire`
 * processes; WireGuard runs as wireguard-go (or the kernel's, where there is one). Every name carries a
 * per-run prefix, and destroy() removes everything the lab made, also after a failure.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WIRE_BIN = join(ROOT, 'wire', 'bin', 'run.js');
export const SV_BIN = join(ROOT, 'vault', 'bin', 'run.js');
export const VSSH_BIN = join(ROOT, 'vssh', 'bin', 'run.js');
export const MPOP_BIN = join(ROOT, 'mpop', 'bin', 'run.js');

/** Result is how a command in a host ended. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Host is one machine of the lab. */
export interface Host {
  name: string;
  ns: string;
  /** its address on its LAN */
  ip: string;
  home: string;
  /** the WireGuard interface name it uses (distinct across hosts: wireguard-go's sockets share /var/run/wireguard) */
  iface: string;
  env: Record<string, string>;
}

function sh(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {}); // a command that never reads its stdin
    child.stdin.end(opts.input ?? '');
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`lab: ${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** waitFor polls `check` until it returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`lab: timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

/** SshServer is a real OpenSSH sshd running in a lab host, on port 22 of its LAN address. */
export interface SshServer {
  /** the host key's fingerprint as `ssh-keygen -lf` prints it (SHA256:...) */
  fingerprint: string;
  /** a private key (ed25519, no passphrase) that logs in as root */
  rootKey: string;
  /** a folder on the host's PATH in its SSH sessions: the MeshPOP bins (sv, wire, vssh) of this repository */
  binDir: string;
  process: ChildProcess;
}

/** Lab is a set of hosts and switches that exist until destroy(). */
export class Lab {
  readonly prefix = `mp${randomBytes(2).toString('hex')}`;
  readonly hosts = new Map<string, Host>();
  readonly #namespaces: string[] = [];
  readonly #procs = new Map<ChildProcess, string>();
  readonly #root = mkdtempSync(join(tmpdir(), 'meshpop-lab-'));
  #hostCount = 0;

  /** addSwitch makes a LAN segment: a bridge in a namespace of its own. */
  async addSwitch(name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    await must('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
    await must('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    await must('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);
    return ns;
  }

  /** addHost makes a host on a switch with `ip` (a /24), with its own home and an initialized vault. */
  async addHost(name: string, switchNs: string, ip: string, gateway?: string): Promise<Host> {
    const ns = `${this.prefix}-${name}`;
    const index = this.#hostCount++;
    await must('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
    const port = `p${index}${name}`.slice(0, 15);
    await must('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', switchNs]);
    await must('ip', ['-n', switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await must('ip', ['-n', ns, 'address', 'add', `${ip}/24`, 'dev', 'eth0']);
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    if (gateway) await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', gateway]);
    const home = join(this.#root, name);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(join(home, 'vault-password'), `lab password of ${name}\n`, { mode: 0o600 });
    const host: Host = {
      name,
      ns,
      ip,
      home,
      iface: `${this.prefix}w${index}`,
      // PATH: the MeshPOP bins of this repository come first, as they would after `npm install -g`, so that a
      // command run on the node (mpop heal runs `wire status` there) finds them.
      env: { MESHPOP_HOME: home, SV_PASSWORD_FILE: join(home, 'vault-password'), WIRE_LOG_LEVEL: 'info', PATH: `${this.#bins()}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    };
    this.hosts.set(name, host);
    const init = await sh(process.execPath, [SV_BIN, 'init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1'], { env: host.env });
    if (init.code !== 0) throw new Error(`lab: sv init on ${name} failed: ${init.stderr}`);
    return host;
  }

  /**
   * addRouter makes a NAT router between a WAN switch and a LAN switch: IPv4 forwarding and nftables
   * masquerade on its WAN side, as a home router does. Hosts on the LAN use `lanIp` as their gateway.
   */
  async addRouter(name: string, wanNs: string, wanIp: string, lanNs: string, lanIp: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    await must('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
    for (const [dev, sw, ip] of [['wan0', wanNs, wanIp], ['lan0', lanNs, lanIp]] as const) {
      const port = `p${this.#hostCount++}${name}${dev[0]}`.slice(0, 15);
      await must('ip', ['-n', ns, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
      await must('ip', ['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      await must('ip', ['-n', ns, 'address', 'add', `${ip}/24`, 'dev', dev]);
      await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await this.nft(ns, ['table ip nat {', '  chain post {', '    type nat hook postrouting priority 100;', '    oifname "wan0" masquerade', '  }', '}'].join('\n'));
    return ns;
  }

  /** nft loads an nftables ruleset into a namespace. */
  async nft(ns: string, ruleset: string): Promise<void> {
    const r = await sh('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: ruleset });
    if (r.code !== 0) throw new Error(`lab: nft in ${ns} failed: ${r.stderr.trim()}`);
  }

  /** blockUdp drops every UDP packet between a host and an address, both ways (a firewall between them). */
  async blockUdp(host: Host, peerIp: string): Promise<void> {
    await this.nft(host.ns, [
      'table inet labblock {',
      '  chain in {',
      '    type filter hook input priority 0;',
      `    ip saddr ${peerIp} meta l4proto udp drop`,
      '  }',
      '  chain out {',
      '    type filter hook output priority 0;',
      `    ip daddr ${peerIp} meta l4proto udp drop`,
      '  }',
      '}',
    ].join('\n'));
  }

  /**
   * addTailscale puts a host on a stand-in for a tailnet: a second link (eth1) to `switchNs` with `ip`
   * (e.g. 100.64.0.1), and a `tailscale` on its PATH that answers `tailscale ip -4` with it, as the real
   * CLI does. The path between two such hosts is a real network; only the CLI that reports it is a stand-in.
   */
  async addTailscale(host: Host, switchNs: string, ip: string): Promise<void> {
    const port = `t${this.#hostCount++}${host.name}`.slice(0, 15);
    await must('ip', ['-n', host.ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', port, 'netns', switchNs]);
    await must('ip', ['-n', switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await must('ip', ['-n', host.ns, 'address', 'add', `${ip}/24`, 'dev', 'eth1']);
    await must('ip', ['-n', host.ns, 'link', 'set', 'eth1', 'up']);
    const bin = join(host.home, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'tailscale'), `#!/bin/sh\n[ "$1 $2" = "ip -4" ] && echo ${ip} && exit 0\necho "lab tailscale: only ip -4" >&2\nexit 1\n`, { mode: 0o755 });
    host.env.PATH = `${bin}:${host.env.PATH}`;
  }

  /** #bins is a folder of the lab's with sv, wire, vssh and mpop linked to this repository's bins (made once). */
  #bins(): string {
    const dir = join(this.#root, 'bin');
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      for (const [bin, target] of [['sv', SV_BIN], ['wire', WIRE_BIN], ['vssh', VSSH_BIN], ['mpop', MPOP_BIN]] as const) symlinkSync(target, join(dir, bin));
    }
    return dir;
  }

  /** moveAddress gives a host a new LAN address in place of its old one (as a DHCP renumbering would). */
  async moveAddress(host: Host, newIp: string): Promise<void> {
    // Delete first: deleting a primary address also deletes its secondaries (promote_secondaries is off).
    await must('ip', ['-n', host.ns, 'address', 'del', `${host.ip}/24`, 'dev', 'eth0']);
    await must('ip', ['-n', host.ns, 'address', 'add', `${newIp}/24`, 'dev', 'eth0']);
    host.ip = newIp;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`lab: no host ${name}`);
    return h;
  }

  /** exec runs a command inside a host and waits for it. */
  exec(host: Host, cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
    return sh('ip', ['netns', 'exec', host.ns, cmd, ...args], { env: host.env, timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  }

  /**
   * command is how to run `cmd args` inside a host with a spawner of one's own (an MCP client's stdio
   * transport): the argv (`ip netns exec NS cmd ...args`, which also gives it a mount namespace of its own)
   * and the host's environment over this process's, as exec() runs it.
   */
  command(host: Host, cmd: string, args: string[]): { command: string; args: string[]; env: Record<string, string> } {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return { command: 'ip', args: ['netns', 'exec', host.ns, cmd, ...args], env: { ...env, ...host.env } };
  }

  /** wire runs the `wire` CLI inside a host and waits for it. */
  wire(host: Host, args: string[]): Promise<Result> {
    return this.exec(host, process.execPath, [WIRE_BIN, ...args]);
  }

  /** vssh runs the `vssh` CLI inside a host and waits for it. */
  vssh(host: Host, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
    return this.exec(host, process.execPath, [VSSH_BIN, ...args], opts);
  }

  /** start runs a long-lived command inside a host (its output goes to a log in its home); stop() ends it. */
  start(host: Host, cmd: string, args: string[], label: string): ChildProcess {
    const logDir = join(host.home, 'logs');
    mkdirSync(logDir, { recursive: true });
    const fd = openSync(join(logDir, `${label}.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], { env: { ...process.env, ...host.env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.#procs.set(child, `${host.name}/${label}`);
    child.on('exit', () => this.#procs.delete(child));
    return child;
  }

  /** startWire runs `wire ARGS` as a long-lived process in a host. */
  startWire(host: Host, args: string[], label: string): ChildProcess {
    return this.start(host, process.execPath, [WIRE_BIN, ...args], label);
  }

  /** startVssh runs `vssh serve` (on the host's mesh address) as a long-lived process in a host. */
  startVssh(host: Host, args: string[] = []): ChildProcess {
    return this.start(host, process.execPath, [VSSH_BIN, 'serve', ...args], 'vssh');
  }

  /**
   * startSshd runs a real `/usr/sbin/sshd -D -e` in a host, on port 22 of its LAN address: its own ed25519
   * host key, root's authorized_keys holding a key made for the run, no PAM, and PATH in its sessions set to
   * a folder with this repository's sv, wire and vssh first (so the MeshPOP packages are "installed" there).
   * Everything lives in the host's home; destroy() ends it with the host's other processes.
   *
   * With `ownSystemDirs`, sshd (and so every session and every daemon started from one) sees a /var/lib of
   * its own (an overlay over this machine's: what it writes lands in the host's home) and an empty
   * /run/wireguard, as a separate machine would: an enroll with the defaults (/var/lib/meshpop, wire0) then
   * touches neither this machine's /var/lib nor another host's WireGuard socket.
   */
  async startSshd(host: Host, opts: { ownSystemDirs?: boolean } = {}): Promise<SshServer> {
    const dir = join(host.home, 'sshd');
    mkdirSync(join(dir, 'authorized'), { recursive: true, mode: 0o755 });
    const keygen = (file: string): void => void execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `lab ${host.name}`, '-f', file], { stdio: 'ignore' });
    keygen(join(dir, 'host_ed25519'));
    keygen(join(dir, 'root_key'));
    writeFileSync(join(dir, 'authorized', 'root'), readFileSync(join(dir, 'root_key.pub')), { mode: 0o600 });
    const binDir = join(dir, 'bin');
    mkdirSync(binDir, { recursive: true });
    for (const [bin, target] of [['sv', SV_BIN], ['wire', WIRE_BIN], ['vssh', VSSH_BIN]] as const) symlinkSync(target, join(binDir, bin));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
    writeFileSync(join(dir, 'sshd_config'), [
      'Port 22',
      `ListenAddress ${host.ip}`,
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized')}/%u`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'Subsystem sftp internal-sftp',
      `SetEnv PATH=${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      '',
    ].join('\n'));
    const sshd = ['/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')];
    let child: ChildProcess;
    if (opts.ownSystemDirs) {
      // `ip netns exec` gave the command a mount namespace whose mounts do not reach this machine's.
      const over = join(host.home, 'varlib');
      mkdirSync(join(over, 'upper'), { recursive: true });
      mkdirSync(join(over, 'work'), { recursive: true });
      mkdirSync('/run/wireguard', { recursive: true, mode: 0o755 });
      const script = 'mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$1/upper,workdir=$1/work" /var/lib && mount -t tmpfs -o mode=0755 tmpfs /run/wireguard && shift && exec "$@"';
      child = this.start(host, '/bin/sh', ['-c', script, 'sshd-dirs', over, ...sshd], 'sshd');
    } else {
      child = this.start(host, sshd[0]!, sshd.slice(1), 'sshd');
    }
    await waitFor(`sshd on ${host.name}`, async () => {
      const r = await this.exec(host, process.execPath, ['-e', `require('net').connect(22, ${JSON.stringify(host.ip)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`], { timeoutMs: 5000 });
      if (child.exitCode !== null) throw new Error(`sshd exited: ${this.log(host, 'sshd')}`);
      return r.code === 0;
    }, 15_000, 200);
    const fingerprint = execFileSync('ssh-keygen', ['-lf', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    return { fingerprint, rootKey: join(dir, 'root_key'), binDir, process: child };
  }

  /** processes returns the running long-lived processes of a host with this label. */
  processes(host: Host, label: string): ChildProcess[] {
    return [...this.#procs].filter(([c, l]) => l === `${host.name}/${label}` && c.exitCode === null && c.signalCode === null).map(([c]) => c);
  }

  /** stop ends a process the lab started (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
  async stop(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  }

  /** log returns what a long-lived process of a host has written. */
  log(host: Host, label: string): string {
    try {
      return readFileSync(join(host.home, 'logs', `${label}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** destroy stops every process, deletes every namespace, interface and socket, and removes every home. */
  async destroy(): Promise<void> {
    await Promise.all([...this.#procs.keys()].map((c) => this.stop(c, 2000)));
    for (const ns of this.#namespaces) {
      // Anything still running in one of our namespaces was started by this lab: end it.
      const pids = (await sh('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    for (const h of this.hosts.values()) await sh('ip', ['-n', h.ns, 'link', 'del', h.iface]);
    for (const ns of [...this.#namespaces].reverse()) await sh('ip', ['netns', 'del', ns]);
    try {
      for (const f of readdirSync('/var/run/wireguard')) if (f.startsWith(this.prefix)) rmSync(join('/var/run/wireguard', f), { force: true });
    } catch { /* no folder */ }
    rmSync(this.#root, { recursive: true, force: true });
  }
}
