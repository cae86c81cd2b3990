import { existsSync } from 'node:fs';
import { AgentStatus, agentStatus } from './agent/client.js';
import { inspectAudit } from './audit.js';
import { meshpopHome, vaultPaths } from './paths.js';
import { readHeader } from './store.js';
import { StoreDoc } from './format.js';
import { isVaultError } from './errors.js';

/** VaultStatus is what `sv status` reports; it needs no key. */
export interface VaultStatus {
  home: string;
  store: string;
  initialized: boolean;
  /** set when the store is there but fails its checksum or structure */
  damaged?: string;
  id?: string;
  created?: string;
  generation?: number;
  secrets?: number;
  unlockWith?: string[];
  kdf?: { memoryKiB: number; iterations: number; parallelism: number };
  shares?: { count: number; threshold: number; created: string } | null;
  agent: (AgentStatus & { running: true }) | { running: false; staleSocket: boolean };
  /** the log checked without a key: its chain, its head and the store's record of its last write (`sv verify` adds the MACs) */
  audit: { file: string; entries: number; intact: boolean; problem?: string };
}

/** vaultStatus describes the vault under `home` without opening it. */
export async function vaultStatus(home: string = meshpopHome()): Promise<VaultStatus> {
  const paths = vaultPaths(home);
  const agent = await agentStatus(paths.socket);
  const base: VaultStatus = {
    home,
    store: paths.store,
    initialized: existsSync(paths.store),
    agent: agent ? { running: true, ...agent } : { running: false, staleSocket: existsSync(paths.socket) },
    audit: { file: paths.audit, entries: 0, intact: false },
  };
  let doc: StoreDoc | undefined;
  try {
    if (base.initialized) doc = readHeader(paths);
  } catch (err) {
    if (!isVaultError(err)) throw err;
  }
  const audit = inspectAudit(paths, doc ? { generation: doc.header.generation, ...(doc.header.audit ? { record: doc.header.audit } : {}) } : undefined);
  base.audit = { file: paths.audit, entries: audit.entries, intact: audit.ok, ...(audit.problem ? { problem: audit.problem } : {}) };
  if (!base.initialized) return base;
  try {
    const { header, entries } = doc ?? readHeader(paths);
    const pw = header.slots.find((s) => s.kind === 'password');
    return {
      ...base,
      id: header.id,
      created: header.created,
      generation: header.generation,
      secrets: entries.length,
      unlockWith: [...header.slots.map((s) => s.kind), ...(header.shares ? ['shares'] : [])],
      ...(pw && pw.kind === 'password' ? { kdf: { memoryKiB: pw.kdf.memoryKiB, iterations: pw.kdf.iterations, parallelism: pw.kdf.parallelism } } : {}),
      shares: header.shares ? { count: header.shares.count, threshold: header.shares.threshold, created: header.shares.created } : null,
    };
  } catch (err) {
    if (isVaultError(err)) return { ...base, damaged: err.message };
    throw err;
  }
}
