import { meshpopHome, type Vault } from '@meshpop/vault/light';
import { openVaultQuick } from '../vault.js';
import { controllerMaster, deriveNodeKey } from '../keys.js';
import { ClientOptions, VsshClient } from './client.js';
import { resolveNode } from './resolve.js';

/** PoolOptions say where the pool finds nodes and the master key. */
export interface PoolOptions extends ClientOptions {
  home?: string;
  /** the controller's master secret; read from the vault (vssh/master, else wire/mesh-master) when absent */
  master?: Uint8Array;
  vault?: Vault;
}

/**
 * Pool keeps one client (one multiplexed connection) per node, so repeated calls to a node reuse its
 * connection; a dropped connection is reopened on the next call. The master key is read once.
 */
export class Pool {
  readonly #clients = new Map<string, Promise<VsshClient>>();
  #master: Promise<Uint8Array> | undefined;

  constructor(private readonly opts: PoolOptions = {}) {}

  /** client returns the node's client, resolving its addresses and deriving its key the first time. */
  client(name: string): Promise<VsshClient> {
    let c = this.#clients.get(name);
    if (!c) {
      c = (async () => {
        const target = await resolveNode(name, this.opts.home ?? meshpopHome());
        return new VsshClient(target, deriveNodeKey(await this.#masterKey(), target.id), this.opts);
      })();
      c.catch(() => this.#clients.delete(name));
      this.#clients.set(name, c);
    }
    return c;
  }

  /** close drops every connection. */
  async close(): Promise<void> {
    for (const c of this.#clients.values()) (await c.catch(() => undefined))?.close();
    this.#clients.clear();
  }

  #masterKey(): Promise<Uint8Array> {
    this.#master ??= (async () => {
      if (this.opts.master) return this.opts.master;
      const vault = this.opts.vault ?? (await openVaultQuick(this.opts.home ?? meshpopHome()));
      try {
        return (await controllerMaster(vault)).master;
      } finally {
        if (!this.opts.vault) await vault.close();
      }
    })();
    this.#master.catch(() => (this.#master = undefined));
    return this.#master;
  }
}

/** connectNode returns a client for one node (its own pool of one). */
export async function connectNode(name: string, opts: PoolOptions = {}): Promise<VsshClient> {
  return new Pool(opts).client(name);
}
