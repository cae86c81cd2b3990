import { networkInterfaces } from 'node:os';
import { execa } from 'execa';
import { NodeInfo } from '../registry/registry.js';
import { probePublicAddress } from './probe.js';
import { isTailscaleIp } from '../registry/addresses.js';

/** lanAddresses are this machine's IPv4 addresses, without loopback and the mesh itself. */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.99.')) out.push(a.address);
    }
  }
  return out;
}

/** tailscaleIp returns this machine's Tailscale IPv4 address, when Tailscale runs here. */
export async function tailscaleIp(): Promise<string | null> {
  try {
    const r = await execa('tailscale', ['ip', '-4'], { timeout: 2000 });
    const ip = r.stdout.trim().split('\n')[0] ?? '';
    return isTailscaleIp(ip) ? ip : null;
  } catch {
    return null;
  }
}

/**
 * gatherInfo is what a node tells the coordinator about itself. It is behind NAT when the address the
 * coordinator's probe saw is none of its own.
 */
export async function gatherInfo(coordinatorHost: string, probePort: number, listenPort: number): Promise<Omit<NodeInfo, 'remoteAddr'>> {
  const lan = lanAddresses();
  const seen = await probePublicAddress(coordinatorHost, probePort);
  return { listenPort, lanAddrs: lan, tailscaleIp: await tailscaleIp(), behindNat: seen ? !lan.includes(seen.address) : false };
}
