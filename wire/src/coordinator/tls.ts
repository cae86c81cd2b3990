import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { run } from '../wg/run.js';

/** Tls is the coordinator's certificate and key, and the fingerprint tokens pin. */
export interface Tls {
  cert: string;
  key: string;
  fingerprint: string;
}

/**
 * ensureTls returns a self-signed certificate (the coordinator's, or a vssh daemon's), making one with openssl (P-256, ten
 * years) the first time. The key file is mode 0600; the certificate's SHA-256 fingerprint is what every
 * join token carries, so nodes trust this certificate and no other.
 */
export async function ensureTls(certFile: string, keyFile: string, hosts: string[], commonName = 'meshpop-wire-coordinator'): Promise<Tls> {
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dirname(certFile), { recursive: true, mode: 0o700 });
    const san = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`)).join(',');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '3650', '-subj', `/CN=${commonName}`,
      ...(san ? ['-addext', `subjectAltName=${san}`] : []),
    ]);
    chmodSync(keyFile, 0o600);
  }
  const cert = readFileSync(certFile, 'utf8');
  return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}
