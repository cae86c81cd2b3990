import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkIfaceName, wireguardGoReason } from '../../src/wg/iface.js';

const BANNER = [
  '┌──────────────────────────────────────────────────────┐',
  '│   Running wireguard-go is not required because this  │',
  '│   kernel has first class support for WireGuard.      │',
  '└──────────────────────────────────────────────────────┘',
].join('\n');

describe('wireguard-go failures', () => {
  it('give its ERROR line, without the banner or the log prefix', () => {
    expect(wireguardGoReason(`${BANNER}\nERROR: (wtest0) 2026/12/01 22:27:03 Failed to create TUN device: permission denied\n`)).toBe('Failed to create TUN device: permission denied');
    expect(wireguardGoReason(BANNER)).toBe('no message');
    expect(wireguardGoReason('something else went wrong\n')).toBe('something else went wrong');
  });

  it('interface names are what Linux takes', () => {
    for (const ok of ['wire0', 'mp1a2bw0', 'a', 'abcdefghijklmno', 'wg_1.x-y']) expect(checkIfaceName(ok)).toBe(ok);
    for (const bad of ['', 'abcdefghijklmnop', 'a/b', 'a b', 'a:1', '.', '..', '-x', 'wire0\n']) expect(() => checkIfaceName(bad), JSON.stringify(bad)).toThrow(/cannot be an interface name/);
  });

  // The real wireguard-go, as a user without CAP_NET_ADMIN: the error says why, not just that it exited.
  it.skipIf(process.getuid?.() !== 0)('as nobody, bringing an interface up fails with wireguard-go\'s own reason', () => {
    const iface = fileURLToPath(new URL('../../dist/wg/iface.js', import.meta.url));
    const script = `import(${JSON.stringify(iface)}).then(async ({ WgInterface }) => {` +
      `try { await new WgInterface('wtnobody${process.pid % 1000}').up({ name: 'x', address: '10.99.0.9/16', privateKey: 'k', listenPort: 51999 }); console.log('up?!'); }` +
      `catch (e) { console.log(e.message); } })`;
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toMatch(/wireguard-go wtnobody\d+ exited \(1\) while starting: Failed to create TUN device: permission denied/);
  });
});
