import { isIPv4 } from 'node:net';
import { WireError } from '../errors.js';

/** MESH_CIDR is the mesh's address space; the coordinator is 10.99.0.1. */
export const MESH_CIDR = '10.99.0.0/16';
export const MESH_PREFIX = 16;
export const COORDINATOR_INDEX = 1;
/** LAST_INDEX is the highest host index of the /16 (10.99.255.254). */
export const LAST_INDEX = 65534;

/** meshIp turns a host index (1..65534) into its address: 258 -> 10.99.1.2. */
export function meshIp(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > LAST_INDEX) {
    throw new WireError('WIRE_ADDRESS_SPACE_FULL', `no mesh address for index ${index}: 10.99.0.0/16 has room for 65534 hosts`);
  }
  return `10.99.${index >> 8}.${index & 255}`;
}

/** COORDINATOR_IP is the coordinator's mesh address. */
export const COORDINATOR_IP = meshIp(COORDINATOR_INDEX);

/** isTailscaleIp tells whether `s` is an IPv4 address in Tailscale's range, 100.64.0.0/10. */
export function isTailscaleIp(s: unknown): s is string {
  if (typeof s !== 'string' || !isIPv4(s)) return false;
  const [a, b] = s.split('.').map(Number) as [number, number];
  return a === 100 && b >= 64 && b <= 127;
}
