import { describe, expect, it } from 'vitest';
import { peerInode } from '../src/agent/peer.js';

// The parser of `ss -xnH` that tells the agent which socket is at the other end of a connection.
describe('peerInode', () => {
  const path = '/home/a b/.meshpop/vault/agent.sock';
  const real = `u_str ESTAB 0      0      ${path} 9387 * 9386`;

  it('finds the peer of our end, also when the path has spaces', () => {
    const out = ['u_str ESTAB 0 0 * 8541 * 8542', real, 'u_str ESTAB 0 0 * 9386 * 9387', 'u_str LISTEN 0 4096 /run/x.sock 77 * 0', ''].join('\n');
    expect(peerInode(out, path, '9387')).toBe('9386');
    expect(peerInode(out, path, '9999')).toBeUndefined();
    expect(peerInode(out, '/other.sock', '9387')).toBeUndefined();
  });

  it('refuses to guess when a crafted socket name imitates our line', () => {
    // A socket name may hold spaces and newlines: one made to print as a second line for our inode.
    const forged = `u_str ESTAB 0 0 /tmp/x\n${path} 9387 * 4242 5000 * 5001`;
    expect(peerInode([real, forged].join('\n'), path, '9387')).toBe('9386');
    const twice = `u_str ESTAB 0 0 /tmp/x\nu_str ESTAB 0 0 ${path} 9387 * 4242\nu_str ESTAB 0 0 * 5000 * 5001`;
    expect(peerInode([real, twice].join('\n'), path, '9387')).toBeUndefined();
    // A name that carries our path and inode inside it does not match: what follows it is not "* PEER".
    const inside = `u_str ESTAB 0 0 ${path} 9387 * 4242 5000 * 5001`;
    expect(peerInode(inside, path, '9387')).toBeUndefined();
  });
});
