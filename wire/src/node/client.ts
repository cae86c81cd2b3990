import { request } from 'node:https';
import { TLSSocket } from 'node:tls';
import { WireError } from '../errors.js';

/** CoordinatorAddress is how a node reaches and trusts its coordinator. */
export interface CoordinatorAddress {
  url: string;
  /** SHA-256 fingerprint of the coordinator's certificate, as Node formats it (AA:BB:...) */
  fingerprint: string;
}

/**
 * callCoordinator POSTs JSON to the coordinator and returns its JSON reply. The certificate must have
 * the pinned fingerprint: the request (and any credential in it) is only written once that is checked.
 * A refusal by the coordinator comes back as the WireError it names.
 */
export function callCoordinator<T>(to: CoordinatorAddress, path: string, body: unknown, credential?: string, timeoutMs = 10_000, signal?: AbortSignal): Promise<T> {
  const url = new URL(path, to.url);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise<T>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port || 443,
      path: url.pathname,
      method: 'POST',
      agent: false,
      rejectUnauthorized: false, // self-signed: trust comes from the pinned fingerprint below
      minVersion: 'TLSv1.3',
      headers: { 'content-type': 'application/json', 'content-length': payload.length, ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
      timeout: timeoutMs,
    });
    req.on('socket', (s) => {
      (s as TLSSocket).once('secureConnect', () => {
        const seen = (s as TLSSocket).getPeerCertificate().fingerprint256;
        if (seen !== to.fingerprint) {
          req.destroy(new WireError('WIRE_CERT_MISMATCH', `the coordinator at ${to.url} presented a certificate that is not the one this node trusts (${seen?.slice(0, 23)}...). Nothing was sent.`));
          return;
        }
        req.end(payload);
      });
    });
    signal?.addEventListener('abort', () => req.destroy(new WireError('WIRE_UNREACHABLE', 'the request to the coordinator was cancelled')), { once: true });
    req.on('timeout', () => req.destroy(new WireError('WIRE_UNREACHABLE', `the coordinator at ${to.url} did not answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof WireError) reject(err);
      else reject(new WireError('WIRE_UNREACHABLE', `cannot reach the coordinator at ${to.url} (${err.code ?? err.message})`, { cause: err }));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let doc: { error?: { code: WireError['code']; message: string } };
        try {
          doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reject(new WireError('WIRE_PROTOCOL', `the coordinator answered ${res.statusCode} with something that is not JSON`));
          return;
        }
        if (res.statusCode === 200) resolve(doc as T);
        else reject(new WireError(doc.error?.code ?? 'WIRE_PROTOCOL', doc.error?.message ?? `the coordinator answered ${res.statusCode}`));
      });
    });
  });
}
