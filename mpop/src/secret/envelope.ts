import { createHash, hkdfSync } from 'node:crypto';
import { decryptSv01, encryptSv01 } from '@meshpop/vault';
import { MpopError } from '../errors.js';

/**
 * A share envelope is what a node keeps of the controller's vault: one Shamir share (svs1-...) sealed in an
 * SV01 blob under a key only the controller can derive (HKDF of its vssh master, the vault id and the node's
 * id), with the header fields bound as associated data. So the file alone gives nothing, not even to root on
 * that node (who holds the node's key, not the master), a share moved to another node or edited is caught,
 * and a share of another vault is told apart before any arithmetic.
 */
export interface ShareEnvelope {
  format: 'mpop-share-1';
  /** the controller's vault id */
  vault: string;
  /** the master key's id (as in the share) */
  keyId: string;
  node: string;
  nodeId: string;
  threshold: number;
  count: number;
  created: string;
  /** the SV01 blob, base64 */
  blob: string;
}

const HEADER_FIELDS = ['format', 'vault', 'keyId', 'node', 'nodeId', 'threshold', 'count', 'created'] as const;

/** wrapKey is the key a node's envelope is sealed with: HKDF-SHA256(vssh master, "meshpop-mpop share-wrap VAULT NODEID"). */
export function wrapKey(master: Uint8Array, vault: string, nodeId: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', master, new Uint8Array(0), `meshpop-mpop share-wrap ${vault} ${nodeId}`, 32));
}

const aad = (e: Omit<ShareEnvelope, 'blob'>): Uint8Array => createHash('sha256').update(JSON.stringify(HEADER_FIELDS.map((k) => e[k]))).digest();

/** shareKeyId reads the key id out of a vault share (svs1-VAULT-KEYID-K-...). */
export function shareKeyId(share: string): string {
  const m = /^svs1-[0-9a-f]{8}-([0-9a-f]{8})-/.exec(share);
  if (!m) throw new MpopError('MPOP_INTERNAL', 'the vault returned a share in an unknown format');
  return m[1]!;
}

/** sealShare makes the envelope of `share` for one node. */
export async function sealShare(master: Uint8Array, head: Omit<ShareEnvelope, 'blob' | 'format'>, share: string): Promise<ShareEnvelope> {
  const h = { format: 'mpop-share-1' as const, ...head };
  const blob = await encryptSv01(Buffer.from(share, 'utf8'), { rawKey: wrapKey(master, h.vault, h.nodeId) }, { context: 'mpop-share', aad: aad(h) });
  return { ...h, blob: blob.toString('base64') };
}

/**
 * openShare reads a node's envelope back: it must be for this vault and this node and open under the
 * controller's key, or MPOP_SHARES says which of these it fails.
 */
export async function openShare(master: Uint8Array, text: string, expect: { vault: string; node: string; nodeId: string }): Promise<{ share: string; envelope: ShareEnvelope }> {
  let e: ShareEnvelope;
  try {
    e = JSON.parse(text) as ShareEnvelope;
  } catch {
    throw new MpopError('MPOP_SHARES', `the share file on ${expect.node} is not a share envelope (damaged or replaced)`);
  }
  if (!e || e.format !== 'mpop-share-1' || typeof e.blob !== 'string' || HEADER_FIELDS.some((k) => e[k] === undefined)) {
    throw new MpopError('MPOP_SHARES', `the share file on ${expect.node} is not a share envelope (damaged or replaced)`);
  }
  if (e.vault !== expect.vault) throw new MpopError('MPOP_SHARES', `the share on ${expect.node} belongs to another vault (${String(e.vault).slice(0, 8)}), not this one (${expect.vault.slice(0, 8)})`);
  if (e.node !== expect.node || e.nodeId !== expect.nodeId) throw new MpopError('MPOP_SHARES', `the share on ${expect.node} was made for ${String(e.node)}: it was moved between nodes`);
  try {
    const { plaintext } = await decryptSv01(Buffer.from(e.blob, 'base64'), { rawKey: wrapKey(master, e.vault, e.nodeId) }, aad(e));
    return { share: Buffer.from(plaintext).toString('utf8'), envelope: e };
  } catch {
    throw new MpopError('MPOP_SHARES', `the share on ${expect.node} fails its seal: it was altered, or sealed under another vssh master`);
  }
}
