import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHostKey, fingerprintOf, hostKeyOf, hostSpec } from '../../src/enroll/known-hosts.js';
import { unitTexts } from '../../src/enroll/node-setup.js';
import { nodePackageJson } from '../../src/enroll/packages.js';
import { atLeast, isDebianLike, NODE_MIN, parseBinVersion, parseOsRelease, parseUname, parseVersion } from '../../src/enroll/probe.js';
import { asRoot, commandLine, printable, quote } from '../../src/enroll/shell.js';
import { parseTarget } from '../../src/enroll/target.js';

describe('enroll: what a host says of itself', () => {
  it('takes Linux on x86_64 and arm64 only', () => {
    expect(parseUname('Linux x86_64\n')).toEqual({ kernel: 'Linux', machine: 'x86_64', arch: 'x64' });
    expect(parseUname('Linux aarch64')).toMatchObject({ arch: 'arm64' });
    expect(parseUname('Linux armv7l')).toEqual({ unsupported: 'its architecture is armv7l; enroll takes x86_64 or arm64' });
    expect(parseUname('Darwin arm64')).toMatchObject({ unsupported: expect.stringContaining('it runs Darwin') });
    expect(parseUname('')).toMatchObject({ unsupported: expect.stringContaining('unknown kernel') });
  });

  it('reads os-release (this machine\'s, and an Ubuntu one) and tells apt distributions', () => {
    const here = parseOsRelease(readFileSync('/etc/os-release', 'utf8'));
    expect(here.id.length).toBeGreaterThan(0);
    const ubuntu = parseOsRelease('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n# comment\ngarbage line\n');
    expect(ubuntu).toEqual({ id: 'ubuntu', idLike: ['debian'], versionId: '24.04', prettyName: 'Ubuntu 24.04.1 LTS' });
    expect(isDebianLike(ubuntu)).toBe(true);
    expect(isDebianLike(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\n'))).toBe(false);
    expect(parseOsRelease('')).toMatchObject({ id: 'linux', prettyName: 'linux' });
  });

  it('compares Node versions against 20.19', () => {
    expect(atLeast(parseVersion('v20.19.0')!, NODE_MIN)).toBe(true);
    expect(atLeast(parseVersion('v20.18.3')!, NODE_MIN)).toBe(false);
    expect(atLeast(parseVersion('v22.1.0')!, NODE_MIN)).toBe(true);
    expect(atLeast(parseVersion('18.19.0+dfsg-6~deb12u2')!, NODE_MIN)).toBe(false);
    expect(parseVersion('node: not found')).toBeUndefined();
  });

  it('reads the --version line of the MeshPOP bins, and nothing else', () => {
    expect(parseBinVersion('@meshpop/wire/0.1.0 linux-x64 node-v20.20.2\n')).toEqual({ pkg: '@meshpop/wire', version: '0.1.0' });
    expect(parseBinVersion('wire 2.3 (some other wire)')).toBeUndefined();
    expect(parseBinVersion('')).toBeUndefined();
  });
});

describe('enroll: command lines and targets', () => {
  it('quotes every word so the login shell reads it back as it was', () => {
    const words = ['plain', "it's", '$(id)', '`id`', 'a b', '', '*', 'x;y', '\n', '-e'];
    const echoed = execFileSync('sh', ['-c', `printf '%s\\0' ${commandLine(words)}`]).toString().split('\0').slice(0, -1);
    expect(echoed).toEqual(words);
    expect(quote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(asRoot(['id'], 'sudo', { MESHPOP_HOME: '/var/lib/mesh pop' })).toBe("sudo -n env 'MESHPOP_HOME=/var/lib/mesh pop' id");
    expect(asRoot(['id'], 'root')).toBe('id');
  });

  it('drops terminal escapes and control characters a host could send', () => {
    expect(printable('Debian\x1b[2J\x1b]0;owned\x07 12\r\x00')).toBe('Debian]0;owned 12');
    expect(printable('plain ünïcode')).toBe('plain ünïcode');
    expect(parseOsRelease('PRETTY_NAME="Evil\x1b[31mOS"\n').prettyName).toBe('EvilOS');
  });

  it('reads user@host, defaults to root, and refuses what is not a host', () => {
    expect(parseTarget('admin@203.0.113.7')).toEqual({ user: 'admin', host: '203.0.113.7' });
    expect(parseTarget('g4.example.net')).toEqual({ user: 'root', host: 'g4.example.net' });
    expect(parseTarget('root@[fd00::7]')).toEqual({ user: 'root', host: 'fd00::7' });
    for (const bad of ['root@', '@host', 'root@-oProxyCommand=x', 'root@a b', 'r;m@host', 'root@host/../x', '']) {
      expect(() => parseTarget(bad), bad).toThrow(/not a (user name|host name)/);
    }
  });
});

describe('enroll: known hosts', () => {
  it('computes fingerprints as ssh-keygen does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpop-kh-'));
    try {
      for (const type of ['ed25519', 'rsa', 'ecdsa']) {
        execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, type)]);
        const pub = readFileSync(join(dir, `${type}.pub`), 'utf8').split(' ');
        const blob = Buffer.from(pub[1]!, 'base64');
        const theirs = execFileSync('ssh-keygen', ['-lf', join(dir, `${type}.pub`)], { encoding: 'utf8' }).split(' ')[1];
        expect(fingerprintOf(blob)).toBe(theirs);
        expect(hostKeyOf(blob).type).toBe(pub[0]);
      }
      expect(hostKeyOf(Buffer.from([0xff, 0xff, 0xff, 0xff, 1])).type).toBe('unknown');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds a host only with its own fingerprint, and keeps other hosts\' lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpop-kh-'));
    const file = join(dir, 'mpop', 'known_hosts');
    const key = { type: 'ssh-ed25519', fingerprint: 'SHA256:' + 'k'.repeat(43) };
    try {
      expect(() => checkHostKey(file, 'h1', 22, key)).toThrow(/not known: ssh-ed25519 SHA256:k+\. Check it/);
      expect(checkHostKey(file, 'h1', 22, key, ` ${key.fingerprint} `)).toBe('added');
      expect(checkHostKey(file, 'h2', 2222, key, key.fingerprint)).toBe('added');
      expect(checkHostKey(file, 'h1', 22, key)).toBe('known');
      // Another port is another host, as with OpenSSH.
      expect(() => checkHostKey(file, 'h1', 23, key)).toThrow(/\[h1\]:23 is not known/);
      expect(readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([`h1 ssh-ed25519 ${key.fingerprint}`, `[h2]:2222 ssh-ed25519 ${key.fingerprint}`]);
      expect(hostSpec('fd00::1', 22)).toBe('fd00::1');
      writeFileSync(file, 'h1 ssh-ed25519 not-a-fingerprint\n');
      expect(() => checkHostKey(file, 'h1', 22, key)).toThrow(/known_hosts:1: not a known host line/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('enroll: what is written on the node', () => {
  it('systemd units run the node\'s own node and bins, with its home and key file, and do not restart into a refusal', () => {
    const units = unitTexts({ home: '/var/lib/meshpop', node: '/usr/bin/node', bins: { sv: '/x/sv.js', wire: '/x/wire.js', vssh: '/x/vssh.js' }, iface: 'wire0' });
    expect(Object.keys(units)).toEqual(['wire-up.service', 'vssh.service']);
    const wire = units['wire-up.service']!;
    expect(wire).toContain('ExecStart=/usr/bin/node /x/wire.js up --interface wire0\n');
    expect(wire).toContain('Environment=MESHPOP_HOME=/var/lib/meshpop\nEnvironment=SV_KEY_FILE=/var/lib/meshpop/vault.key\n');
    expect(wire).toContain('RestartPreventExitStatus=2 11\n');
    const vssh = units['vssh.service']!;
    expect(vssh).toContain('After=network-online.target wire-up.service\n');
    expect(vssh).toContain('ExecStart=/usr/bin/node /x/vssh.js serve\n');
    expect(vssh).toContain('WantedBy=multi-user.target');
  });

  it('the node\'s package.json takes all three packages from their uploaded tarballs', () => {
    const json = JSON.parse(nodePackageJson([
      { pkg: '@meshpop/vault', version: '0.1.0', file: '/t/meshpop-vault-0.1.0.tgz', sha256: '' },
      { pkg: '@meshpop/wire', version: '0.1.0', file: '/t/meshpop-wire-0.1.0.tgz', sha256: '' },
    ]));
    expect(json.dependencies).toEqual({ '@meshpop/vault': 'file:tarballs/meshpop-vault-0.1.0.tgz', '@meshpop/wire': 'file:tarballs/meshpop-wire-0.1.0.tgz' });
    expect(json.private).toBe(true);
  });
});
