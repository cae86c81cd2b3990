import { createSocket } from 'node:dgram';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { WireError } from '../errors.js';
import { checkIfaceName, interfaceExists } from './iface.js';
import { run } from './run.js';

/** CAP_NET_ADMIN is bit 12 of a capability set. */
const CAP_NET_ADMIN = 12n;

/** hasNetAdmin tells whether this process may create and configure network interfaces (root or CAP_NET_ADMIN). */
export function hasNetAdmin(): boolean {
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return eff !== undefined && ((BigInt(`0x${eff}`) >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    return process.getuid?.() === 0;
  }
}

/** udpPortFree tells whether a UDP port can be bound on every IPv4 address here. */
function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '0.0.0.0', () => sock.close(() => resolve(true)));
  });
}

/** kernelWireGuard tells whether this kernel can make a WireGuard interface (by making one and deleting it). */
async function kernelWireGuard(probeName: string): Promise<boolean> {
  try {
    await run('ip', ['link', 'add', 'dev', probeName, 'type', 'wireguard']);
  } catch (err) {
    if (err instanceof WireError && err.code === 'WIRE_MISSING_TOOL') throw err;
    return false;
  }
  await run('ip', ['link', 'del', 'dev', probeName]).catch(() => undefined);
  return true;
}

/**
 * checkCanBringUp checks, without changing anything that stays, that this machine can bring up the
 * interface `iface` listening on `listenPort`: a valid name not taken, root or CAP_NET_ADMIN, `ip` and
 * `wg`, kernel WireGuard or else `wireguard-go` and a usable /dev/net/tun, and the port free. It throws
 * the error a person can act on (WIRE_BAD_INPUT, WIRE_NOT_PERMITTED, WIRE_MISSING_TOOL). `wire up --join`
 * runs it before the token is spent.
 */
export async function checkCanBringUp(iface: string, listenPort: number): Promise<void> {
  checkIfaceName(iface);
  if (!hasNetAdmin()) {
    throw new WireError('WIRE_NOT_PERMITTED', 'bringing up a WireGuard interface needs root (or CAP_NET_ADMIN): run it with sudo. Nothing was sent; the token is unused.');
  }
  await run('ip', ['-V']);
  await run('wg', ['--version']);
  if (await interfaceExists(iface)) {
    throw new WireError('WIRE_BAD_INPUT', `an interface named ${iface} already exists here: pick another with --interface, or remove it (ip link del ${iface}).`);
  }
  if (!(await kernelWireGuard(iface))) {
    await run('wireguard-go', ['--version']);
    try {
      closeSync(openSync('/dev/net/tun', constants.O_RDWR));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new WireError('WIRE_NOT_PERMITTED', `this kernel has no WireGuard and wireguard-go cannot open /dev/net/tun (${code})` +
        (code === 'ENOENT' ? ': load the tun module (modprobe tun), or in a container pass --device /dev/net/tun.' : ': run as root, or give the container /dev/net/tun.'));
    }
  }
  if (!(await udpPortFree(listenPort))) {
    throw new WireError('WIRE_BAD_INPUT', `UDP port ${listenPort} is in use here: pick another with --listen-port.`);
  }
}
