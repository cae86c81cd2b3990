import { agentRequest } from './client.js';
import { SecretInfo, SecretMeta, Vault, VerifyReport } from '../types.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** AgentVault is the vault as seen through a running unlock agent: the key never enters this process. */
export class AgentVault implements Vault {
  readonly via = 'agent' as const;
  readonly socket: string;

  constructor(socket: string) {
    this.socket = socket;
  }

  #call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    return agentRequest<T>(this.socket, op, args);
  }

  async get(name: string): Promise<Uint8Array> {
    return unb64((await this.#call<{ value: string }>('get', { name })).value);
  }
  async getString(name: string): Promise<string> {
    return new TextDecoder().decode(await this.get(name));
  }
  has(name: string): Promise<boolean> {
    return this.#call('has', { name });
  }
  set(name: string, value: Uint8Array | string, meta: SecretMeta = {}): Promise<SecretInfo> {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    return this.#call('set', { name, value: b64(bytes), meta });
  }
  list(): Promise<SecretInfo[]> {
    return this.#call('list');
  }
  async remove(name: string): Promise<void> {
    await this.#call('remove', { name });
  }
  async getMany(names?: string[], op?: string): Promise<Map<string, Uint8Array>> {
    const r = await this.#call<Record<string, string>>('getMany', { names, op });
    return new Map(Object.entries(r).map(([k, v]) => [k, unb64(v)]));
  }
  split(count: number, threshold: number): Promise<string[]> {
    return this.#call('split', { count, threshold });
  }
  verify(): Promise<VerifyReport> {
    return this.#call('verify');
  }
  async close(): Promise<void> {
    /* nothing held here */
  }
}
