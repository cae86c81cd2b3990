import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStaticNodes, resolveNode } from '../../src/client/resolve.js';

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'vssh-resolve-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nodesFile = (doc: unknown): string => {
  const f = join(dir, `nodes-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(doc));
  return f;
};

describe('nodes.json', () => {
  it('reads the old form: one tls for every address of a node', () => {
    const [n] = readStaticNodes(nodesFile({ nas1: { addresses: ['192.168.1.20', '[fd00::1]:48300'], tls: true } }));
    expect(n!.addresses).toEqual([
      { host: '192.168.1.20', port: 48291, tls: true, via: 'static' },
      { host: 'fd00::1', port: 48300, tls: true, via: 'static' },
    ]);
  });

  it('chooses TLS per address: plain mesh address first, then the Tailscale one with TLS', () => {
    const [n] = readStaticNodes(nodesFile({ g2: { addresses: ['10.99.0.7', { address: '100.64.0.7:48291', tls: true }, { address: '203.0.113.9' }] } }));
    expect(n!.addresses.map((a) => [a.host, a.port, a.tls])).toEqual([['10.99.0.7', 48291, false], ['100.64.0.7', 48291, true], ['203.0.113.9', 48291, false]]);
    const [t] = readStaticNodes(nodesFile({ g3: { tls: true, addresses: [{ address: '10.99.0.8', tls: false }, '100.64.0.8'] } }));
    expect(t!.addresses.map((a) => a.tls)).toEqual([false, true]);
  });

  it('names the node and the entry it cannot read', () => {
    for (const bad of [{ address: '10.0.0.1', tls: 'yes' }, { host: '10.0.0.1' }, 7, '']) {
      expect(() => readStaticNodes(nodesFile({ g4: { addresses: ['10.0.0.2', bad] } }))).toThrow(/node "g4" needs "addresses".*entry 2 is/);
    }
  });
});

describe('nodes from a mesh node\'s cached peer list', () => {
  const cache = (home: string, reply: unknown): void => {
    mkdirSync(join(home, 'wire'), { recursive: true });
    writeFileSync(join(home, 'wire', 'peers.json'), JSON.stringify({ fetched: new Date().toISOString(), reply }));
  };
  const coordinator = { meshIp: '10.99.0.1', publicKey: 'k', endpoint: '192.0.2.1:51820' };

  it('follow a peer\'s mesh address with its Tailscale address, over TLS', async () => {
    const home = join(dir, 'node-home');
    cache(home, {
      self: { id: 'id-a', name: 'a', meshIp: '10.99.0.2', tailscaleIp: '100.64.0.2' },
      coordinator,
      peers: [{ id: 'id-b', name: 'b', meshIp: '10.99.0.3', tailscaleIp: '100.64.0.3', endpoint: null }, { id: 'id-c', name: 'c', meshIp: '10.99.0.4', tailscaleIp: null, endpoint: null }],
    });
    const b = await resolveNode('b', home);
    expect(b.id).toBe('id-b');
    expect(b.addresses.map((x) => [x.host, x.tls, x.via])).toEqual([['10.99.0.3', false, 'wire'], ['100.64.0.3', true, 'tailscale']]);
    expect((await resolveNode('a', home)).addresses.map((x) => x.via)).toEqual(['wire', 'tailscale']);
    expect((await resolveNode('c', home)).addresses.map((x) => x.via)).toEqual(['wire']);
  });

  it('read a cache written before peers carried tailscaleIp', async () => {
    const home = join(dir, 'old-home');
    cache(home, { self: { id: 'id-a', name: 'a', meshIp: '10.99.0.2' }, coordinator, peers: [{ id: 'id-b', name: 'b', meshIp: '10.99.0.3', endpoint: null }] });
    expect((await resolveNode('b', home)).addresses).toEqual([{ host: '10.99.0.3', port: 48291, tls: false, via: 'wire' }]);
  });
});

describe('resolveNode over nodes.json, read once per change of the file', () => {
  it('sees an edit at once, a removal as unknown, and hands out copies the caller may change', async () => {
    const home = join(dir, 'static-home');
    mkdirSync(join(home, 'vssh'), { recursive: true });
    const file = join(home, 'vssh', 'nodes.json');
    writeFileSync(file, JSON.stringify({ a: { addresses: ['127.0.0.1:1001'] }, b: { addresses: ['127.0.0.1:1002'] } }));
    const a = await resolveNode('a', home);
    expect(a.addresses[0]!.port).toBe(1001);
    a.addresses[0]!.port = 9; // the caller's copy, not the cache's
    expect((await resolveNode('a', home)).addresses[0]!.port).toBe(1001);
    writeFileSync(file, JSON.stringify({ a: { addresses: ['127.0.0.1:2001', '127.0.0.1:2002'] } }));
    expect((await resolveNode('a', home)).addresses.map((x) => x.port)).toEqual([2001, 2002]);
    await expect(resolveNode('b', home)).rejects.toThrow(/no node named "b" \(known: a\)/);
    writeFileSync(file, '{ "a": ');
    await expect(resolveNode('a', home)).rejects.toThrow(/is not valid JSON/);
  });
});
