import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WireError } from '../src/errors.js';
import { meshIp } from '../src/registry/addresses.js';
import { NodeInfo, Registry } from '../src/registry/registry.js';

const info: NodeInfo = { listenPort: 51820, lanAddrs: ['192.168.1.5'], tailscaleIp: null, behindNat: false, remoteAddr: '192.168.1.5' };
const key = (n: number): string => Buffer.alloc(32, n).toString('base64');

let dir: string;
let reg: Registry;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wire-reg-'));
  reg = new Registry(join(dir, 'registry.db'));
});
afterEach(() => {
  reg.close();
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof WireError ? err.code : `not a WireError: ${err}`;
  }
}

describe('mesh addresses', () => {
  it('map indexes onto 10.99.0.0/16 and refuse what does not fit', () => {
    expect(meshIp(1)).toBe('10.99.0.1');
    expect(meshIp(255)).toBe('10.99.0.255');
    expect(meshIp(256)).toBe('10.99.1.0');
    expect(meshIp(65534)).toBe('10.99.255.254');
    expect(() => meshIp(65535)).toThrow(WireError);
    expect(() => meshIp(0)).toThrow(WireError);
  });
});

describe('the registry', () => {
  it('refuses a revoked token and a TTL past 90 days, and opens a registry made before revocation existed', () => {
    const t = reg.createToken('g1', 60_000);
    expect(reg.revokeTokens(t.id)).toEqual([t.id]);
    expect(codeOf(() => reg.join(t, 'g1', key(1), info))).toBe('WIRE_TOKEN_REVOKED');
    expect(codeOf(() => reg.revokeTokens(t.id))).toBe('WIRE_NOT_FOUND');
    expect(reg.listTokens()[0]!.revokedAt).toBeGreaterThan(0);
    expect(codeOf(() => reg.createToken('g1', 91 * 86_400_000))).toBe('WIRE_BAD_INPUT');
    reg.db.exec('DROP TABLE tokens; CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash BLOB NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL, used_at INTEGER, used_by TEXT)');
    reg.close();
    reg = new Registry(join(dir, 'registry.db'));
    const t2 = reg.createToken('g1', 60_000);
    expect(reg.join(t2, 'g1', key(1), info).node.name).toBe('g1');
  });

  it('enrolls with a token once, and never reuses an address, also after removal and reopening', () => {
    const t1 = reg.createToken('g1', 60_000);
    const { node: g1, credential } = reg.join(t1, 'g1', key(1), info);
    expect(g1.meshIp).toBe('10.99.0.2');
    expect(reg.authenticate(g1.id, credential).name).toBe('g1');
    expect(codeOf(() => reg.join(t1, 'g1', key(9), info))).toBe('WIRE_TOKEN_USED');
    const g2 = reg.join(reg.createToken('g2', 60_000), 'g2', key(2), info).node;
    expect(g2.meshIp).toBe('10.99.0.3');
    reg.removeNode('g2');
    expect(codeOf(() => reg.authenticate(g2.id, 'x'.repeat(43)))).toBe('WIRE_UNAUTHORIZED');
    reg.close();
    reg = new Registry(join(dir, 'registry.db'));
    const again = reg.join(reg.createToken('g2', 60_000), 'g2', key(3), info).node;
    expect(again.meshIp).toBe('10.99.0.4');
    expect(reg.listNodes().map((n) => n.name)).toEqual(['g1', 'g2']);
    expect(reg.listNodes({ includeRemoved: true }).map((n) => n.status)).toEqual(['online', 'removed', 'online']);
  });

  it('refuses forged, expired and wrong-name tokens and changes nothing', () => {
    const now = Date.now();
    const t = reg.createToken('g1', 1000, now);
    expect(codeOf(() => reg.join({ id: t.id, secret: 'forged-secret-forged-secret' }, 'g1', key(1), info, now))).toBe('WIRE_BAD_TOKEN');
    expect(codeOf(() => reg.join({ id: 'no-such-id', secret: t.secret }, 'g1', key(1), info, now))).toBe('WIRE_BAD_TOKEN');
    expect(codeOf(() => reg.join(t, 'g9', key(1), info, now))).toBe('WIRE_TOKEN_NAME');
    expect(codeOf(() => reg.join(t, 'g1', key(1), info, now + 1001))).toBe('WIRE_TOKEN_EXPIRED');
    expect(reg.listNodes()).toEqual([]);
    expect(reg.listTokens()[0]).toMatchObject({ name: 'g1', usedAt: null });
    expect(reg.join(t, 'g1', key(1), info, now + 500).node.name).toBe('g1');
  });

  it('a removed node cannot sync: its credential says so', () => {
    const { node, credential } = reg.join(reg.createToken('g1', 60_000), 'g1', key(1), info);
    reg.removeNode('g1');
    expect(codeOf(() => reg.authenticate(node.id, credential))).toBe('WIRE_REMOVED');
    expect(codeOf(() => reg.removeNode('g1'))).toBe('WIRE_NOT_FOUND');
  });

  it('refuses bad names, taken names and a public key already in use', () => {
    expect(codeOf(() => reg.createToken('Bad_Name', 60_000))).toBe('WIRE_BAD_INPUT');
    reg.join(reg.createToken('g1', 60_000), 'g1', key(1), info);
    expect(codeOf(() => reg.createToken('g1', 60_000))).toBe('WIRE_NAME_TAKEN');
    expect(codeOf(() => reg.join(reg.createToken('g2', 60_000), 'g2', key(1), info))).toBe('WIRE_BAD_INPUT');
  });

  it('moves its peer version on what changes peer lists, and only then', () => {
    const v0 = reg.peerVersion();
    const { node } = reg.join(reg.createToken('g1', 60_000), 'g1', key(1), info);
    const v1 = reg.peerVersion();
    expect(v1).toBeGreaterThan(v0);
    reg.heartbeat(node.id, info);
    reg.heartbeat(node.id, info);
    expect(reg.peerVersion()).toBe(v1);
    reg.heartbeat(node.id, { ...info, lanAddrs: ['192.168.1.99'] });
    const v2 = reg.peerVersion();
    expect(v2).toBeGreaterThan(v1);
    reg.setEndpoints(new Map([[key(1), '198.51.100.7:51820']]));
    const v3 = reg.peerVersion();
    expect(v3).toBeGreaterThan(v2);
    reg.setEndpoints(new Map([[key(1), '198.51.100.7:51820']]));
    expect(reg.peerVersion()).toBe(v3);
    reg.removeNode('g1');
    expect(reg.peerVersion()).toBeGreaterThan(v3);
  });

  it('gives out addresses without collision under many joins', () => {
    const ips = new Set<string>();
    for (let i = 0; i < 300; i++) ips.add(reg.join(reg.createToken(`n${i}`, 60_000), `n${i}`, Buffer.alloc(32, i % 256).fill(i >> 8, 0, 1).toString('base64'), info).node.meshIp);
    expect(ips.size).toBe(300);
    expect(ips.has('10.99.1.45')).toBe(true);
  });
});
