import { run } from './run.js';

const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** isWgKey tells whether `s` is a WireGuard key in base64 (32 bytes). */
export function isWgKey(s: string): boolean {
  return KEY_RE.test(s);
}

/** genKey makes a new WireGuard private key with `wg genkey`. It stays on this machine. */
export async function genKey(): Promise<string> {
  return (await run('wg', ['genkey'])).trim();
}

/** publicKey derives the public key of a private key with `wg pubkey` (the private key goes on stdin). */
export async function publicKey(privateKey: string): Promise<string> {
  return (await run('wg', ['pubkey'], { input: privateKey + '\n' })).trim();
}
