import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, JoinReply, SyncReply } from '../src/coordinator/api.js';
import { endpointFor } from '../src/coordinator/peers.js';
import { Registry } from '../src/registry/registry.js';
import { normalizeReply, readCachedPeers } from '../src/node/state.js';
import { decodeToken, encodeToken } from '../src/token.js';

const key = (n: number): string => Buffer.alloc(32, n).toString('base64');
const coordinator = { publicKey: key(200), endpoint: '203.0.113.7:51820', relays: false };

let dir: string;
let reg: Registry;
let api: Api;
let changes = 0;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wire-api-'));
  reg = new Registry(join(dir, 'registry.db'));
  api = new Api(reg, () => coordinator, new Uint8Array(32).fill(7), 30_000, () => changes++);
});
afterEach(() => {
  reg.close();
  rmSync(dir, { recursive: true, force: true });
});

const join_ = (name: string, k: number, extra: Record<string, unknown> = {}, remoteAddr = '198.51.100.1') => {
  const t = reg.createToken(name, 60_000);
  return api.handle({ method: 'POST', path: '/v1/join', body: { token: t, name, publicKey: key(k), listenPort: 51820, lanAddrs: ['192.168.1.10'], ...extra }, authorization: undefined, remoteAddr });
};

describe('the coordinator API', () => {
  it('join returns an identity, secrets once, and the peers; sync with the credential returns the peers', () => {
    const a = join_('a', 1);
    expect(a.status).toBe(200);
    const ja = a.body as JoinReply;
    expect(ja.self.meshIp).toBe('10.99.0.2');
    expect(ja.peers.map((p) => p.name)).toEqual(['coordinator']);
    expect(ja.peers[0]).toMatchObject({ meshIp: '10.99.0.1', endpoint: '203.0.113.7:51820', keepalive: 25 });
    expect(ja.nodeSecret).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const jb = join_('b', 2).body as JoinReply;
    expect(jb.nodeSecret).not.toBe(ja.nodeSecret);
    expect(changes).toBe(2);
    const sync = api.handle({ method: 'POST', path: '/v1/sync', body: { listenPort: 51821, lanAddrs: [] }, authorization: `Bearer ${ja.self.id}.${ja.credential}`, remoteAddr: '198.51.100.1' });
    expect(sync.status).toBe(200);
    expect((sync.body as SyncReply).peers.map((p) => [p.name, p.endpoint])).toEqual([['coordinator', '203.0.113.7:51820'], ['b', '198.51.100.1:51820']]);
    expect(JSON.stringify(sync.body)).not.toContain(ja.credential);
  });

  it('answers bad requests with a status and an error, never a crash', () => {
    const bad = (body: unknown, path = '/v1/join', authorization?: string) => api.handle({ method: 'POST', path, body, authorization, remoteAddr: null });
    expect(bad(null)).toMatchObject({ status: 403, body: { error: { code: 'WIRE_BAD_TOKEN' } } });
    expect(bad({ token: { id: 'x', secret: 'y' }, name: 'a', publicKey: key(1), listenPort: 1 })).toMatchObject({ status: 403 });
    const t = reg.createToken('a', 60_000);
    expect(bad({ token: t, name: 'a', publicKey: 'not-a-key', listenPort: 51820 })).toMatchObject({ status: 400, body: { error: { code: 'WIRE_BAD_INPUT' } } });
    expect(bad({ token: t, name: 'a', publicKey: key(1), listenPort: 70000 })).toMatchObject({ status: 400 });
    expect(bad({}, '/v1/sync')).toMatchObject({ status: 401 });
    expect(bad({}, '/v1/sync', 'Bearer 00000000-0000-0000-0000-000000000000.aaaaaaaaaaaaaaaaaaaaaaaa')).toMatchObject({ status: 401 });
    expect(bad({}, '/v1/nope')).toMatchObject({ status: 404 });
    const j = join_('c', 3).body as JoinReply;
    reg.removeNode('c');
    expect(bad({ listenPort: 51820 }, '/v1/sync', `Bearer ${j.self.id}.${j.credential}`)).toMatchObject({ status: 410, body: { error: { code: 'WIRE_REMOVED' } } });
  });

  it('carries each node\'s Tailscale IP to every other node, and to itself as self; an old cache reads as null', () => {
    const ja = join_('a', 1, { tailscaleIp: '100.64.0.5' }).body as JoinReply;
    expect(ja.self.tailscaleIp).toBe('100.64.0.5');
    const jb = join_('b', 2, { listenPort: 51900 }).body as JoinReply;
    expect(jb.self.tailscaleIp).toBeNull();
    expect(jb.peers.find((p) => p.name === 'a')).toMatchObject({ tailscaleIp: '100.64.0.5', listenPort: 51820 });
    const sync = api.handle({ method: 'POST', path: '/v1/sync', body: { listenPort: 51820, lanAddrs: [], tailscaleIp: '100.64.0.6' }, authorization: `Bearer ${ja.self.id}.${ja.credential}`, remoteAddr: '198.51.100.1' }).body as SyncReply;
    expect(sync.self.tailscaleIp).toBe('100.64.0.6');
    expect(sync.peers.find((p) => p.name === 'b')).toMatchObject({ tailscaleIp: null, listenPort: 51900 });
    expect(sync.coordinator.relays).toBe(false);
    // a peers.json written before the field existed
    const old = { ...sync, self: { id: 'x', name: 'a', meshIp: '10.99.0.2' }, coordinator: { publicKey: coordinator.publicKey, endpoint: coordinator.endpoint },
      peers: sync.peers.map(({ tailscaleIp: _t, listenPort: _l, ...p }) => p) };
    const file = join(dir, 'peers.json');
    writeFileSync(file, JSON.stringify({ fetched: new Date().toISOString(), reply: old }));
    const cached = readCachedPeers(file)!;
    expect(cached.reply.self.tailscaleIp).toBeNull();
    expect(cached.reply.coordinator.relays).toBe(false);
    expect(cached.reply.peers.map((p) => [p.name, p.tailscaleIp, p.listenPort])).toEqual([['coordinator', null, 51820], ['b', null, 51900]]);
    writeFileSync(file, '{"fetched": 1}');
    expect(readCachedPeers(file)).toBeUndefined();
  });

  it('takes only a Tailscale address (100.64.0.0/10) as one, from a node and from a reply: it becomes a WireGuard endpoint', () => {
    for (const [i, bad] of ['1.2.3.4.5', '999.1.1.1', '192.168.1.1', '100.128.0.1', '100.64.0.1; rm', 7].entries()) {
      const j = join_(`bad${i}`, 40 + i, { tailscaleIp: bad }).body as JoinReply;
      expect(j.self.tailscaleIp, String(bad)).toBeNull();
    }
    const hostile = { self: { id: 'x', name: 'a', meshIp: '10.99.0.2', tailscaleIp: '100.64.0.1' }, coordinator: { ...coordinator, relays: 'yes' },
      peers: [{ name: 'b', id: 'b', meshIp: '10.99.0.3', publicKey: key(2), endpoint: '192.0.2.1:51820', keepalive: null, online: true, tailscaleIp: '1.2.3.4.5', listenPort: 99999 }] } as unknown as SyncReply;
    const n = normalizeReply(hostile);
    expect(n.peers[0]).toMatchObject({ tailscaleIp: null, listenPort: 51820 });
    expect(n.coordinator.relays).toBe(false);
  });

  it("sends peers behind the same NAT to each other's LAN address", () => {
    join_('a', 1, { behindNat: true, lanAddrs: ['10.0.0.5'] }, '198.51.100.9');
    join_('b', 2, { behindNat: true, lanAddrs: ['10.0.0.6'] }, '198.51.100.9');
    join_('c', 3, {}, '203.0.113.50');
    const [a, b, c] = reg.listNodes() as [ReturnType<Registry['listNodes']>[0], ReturnType<Registry['listNodes']>[0], ReturnType<Registry['listNodes']>[0]];
    expect(endpointFor(a, b)).toBe('10.0.0.6:51820');
    expect(endpointFor(a, c)).toBe('203.0.113.50:51820');
    expect(endpointFor(c, a)).toBe('198.51.100.9:51820');
  });
});

describe('join tokens', () => {
  it('round-trip, and refuse what is not one', () => {
    const t = { url: 'https://203.0.113.7:8787', fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'), name: 'g2', id: 'abc', secret: 's3cret', probePort: 8788 };
    expect(decodeToken(encodeToken(t))).toEqual(t);
    expect(decodeToken(`  ${encodeToken(t)}\n`)).toEqual(t);
    for (const bad of ['', 'wire1_', 'wire2_abc', 'wire1_!!!', encodeToken({ ...t, url: 'http://x' }), encodeToken({ ...t, fingerprint: 'AB' }), encodeToken({ ...t, probePort: 0 })]) {
      expect(() => decodeToken(bad), bad).toThrow(/not a wire join token/);
    }
  });
});
