import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { MpopError } from '../errors.js';
import { checkHostKey, hostKeyOf, HostKey, HostKeyStatus } from './known-hosts.js';
import { printable } from './shell.js';

/** SshAuth is how enroll logs in: a private key (with its passphrase), a password, and/or an ssh-agent socket. */
export interface SshAuth {
  /** a private key file (OpenSSH ed25519 or RSA, or PEM) */
  keyFile?: string;
  passphrase?: string;
  password?: string;
  /** an ssh-agent socket (SSH_AUTH_SOCK) */
  agent?: string;
}

/** SshTarget is where to connect and which host keys to trust. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  knownHosts: string;
  /** a fingerprint (`SHA256:...`) the person checked, to trust an unknown host on first contact */
  acceptHostKey?: string;
  /** give up on the TCP connection and the SSH handshake after this long (default 15 s) */
  timeoutMs?: number;
}

/** RunResult is how a remote command ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** SshSession is an open, verified, authenticated SSH connection. */
export interface SshSession {
  hostKey: HostKey & { status: HostKeyStatus };
  /** the server's identification line, e.g. SSH-2.0-OpenSSH_9.2p1 */
  banner: string;
  /** run executes a command line (as the login shell reads it) and collects its output; a timeout kills the channel */
  run(command: string, opts?: { input?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<RunResult>;
  /** upload copies a local file to a remote path over SFTP (mode 0600) */
  upload(local: string, remote: string): Promise<void>;
  close(): void;
}

/** keyFor reads a private key file, checking it parses (with its passphrase) so a bad key is said plainly. */
function keyFor(auth: SshAuth): Buffer | undefined {
  if (!auth.keyFile) return undefined;
  let data: Buffer;
  try {
    data = readFileSync(auth.keyFile);
  } catch (err) {
    throw new MpopError('MPOP_USAGE', `cannot read the key file ${auth.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = ssh2.utils.parseKey(data, auth.passphrase);
  if (parsed instanceof Error) {
    const m = parsed.message;
    if (/no passphrase/i.test(m)) throw new MpopError('MPOP_USAGE', `the key ${auth.keyFile} is encrypted: pass --passphrase-file FILE.`);
    if (/bad passphrase|decrypt|integrity/i.test(m)) throw new MpopError('MPOP_USAGE', `the passphrase does not open the key ${auth.keyFile}.`);
    throw new MpopError('MPOP_USAGE', `${auth.keyFile} is not a private key ssh2 can read (${m}); use an OpenSSH ed25519 or RSA key.`);
  }
  if (Array.isArray(parsed) || (parsed.isPrivateKey && !parsed.isPrivateKey())) throw new MpopError('MPOP_USAGE', `${auth.keyFile} is not a private key (a .pub file?).`);
  return data;
}

const NETWORK = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE']);

/**
 * sshConnect opens an SSH connection, checks the host key against the known hosts (refusing an unknown or
 * changed one with MPOP_HOST_KEY before any credential is sent), and logs in. An unreachable host is
 * MPOP_UNREACHABLE, refused credentials MPOP_ENROLL naming what was tried.
 */
export async function sshConnect(target: SshTarget, auth: SshAuth, signal?: AbortSignal): Promise<SshSession> {
  const privateKey = keyFor(auth);
  if (!privateKey && auth.password === undefined && !auth.agent) {
    throw new MpopError('MPOP_USAGE', 'no way to log in: pass --key FILE, a password (--password-file or SSH_PASSWORD), or run an ssh-agent (SSH_AUTH_SOCK).');
  }
  const client = new ssh2.Client();
  let hostKey: (HostKey & { status: HostKeyStatus }) | undefined;
  let keyError: unknown;
  let banner = '';
  let tcp = false;
  const where = `${target.user}@${target.host}:${target.port}`;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: target.timeoutMs ?? 15_000,
    keepaliveInterval: 15_000,
    ...(privateKey ? { privateKey } : {}),
    ...(privateKey && auth.passphrase !== undefined ? { passphrase: auth.passphrase } : {}),
    ...(auth.password !== undefined ? { password: auth.password } : {}),
    ...(auth.agent ? { agent: auth.agent } : {}),
    hostVerifier: (blob: Buffer): boolean => {
      try {
        const key = hostKeyOf(blob);
        hostKey = { ...key, status: checkHostKey(target.knownHosts, target.host, target.port, key, target.acceptHostKey) };
        return true;
      } catch (err) {
        keyError = err;
        return false;
      }
    },
  };
  const tried = [privateKey ? 'publickey' : '', auth.agent ? 'agent' : '', auth.password !== undefined ? 'password' : ''].filter(Boolean).join(', ');
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      settled = true;
      client.end();
      reject(new MpopError('MPOP_CANCELLED', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    client.once('connect', () => {
      tcp = true;
    });
    let settled = false;
    // One listener for the client's whole life: ssh2 may emit a second error (the socket lost after a
    // timeout) or one after login (the connection dropped), and an unheard error would end the process.
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      if (keyError) return reject(keyError);
      if (err.level === 'client-authentication') {
        return reject(new MpopError('MPOP_ENROLL', `${where} refused the login (tried: ${tried}): check the user name, the key or the password.`));
      }
      if (err.level === 'client-timeout') {
        const s = Math.round((target.timeoutMs ?? 15_000) / 1000);
        return reject(new MpopError('MPOP_UNREACHABLE', tcp
          ? `cannot reach ${target.host}:${target.port}: it took the connection but no SSH handshake came within ${s} s (is it an SSH server?).`
          : `cannot reach ${target.host}:${target.port}: nothing answered within ${s} s (the host is down, the address is wrong, or a firewall drops it).`));
      }
      if (err.code && NETWORK.has(err.code)) return reject(new MpopError('MPOP_UNREACHABLE', `cannot reach ${target.host}:${target.port}: ${err.code}; check the address and port, and that sshd runs there.`));
      reject(new MpopError('MPOP_UNREACHABLE', `SSH to ${where} failed: ${err.message}`));
    });
    try {
      client.connect({ ...config, debug: (line: string) => {
        const m = /Remote ident: '([^']+)'/.exec(line);
        if (m) banner = printable(m[1]!).slice(0, 100);
      } });
    } catch (err) {
      reject(new MpopError('MPOP_USAGE', `cannot connect to ${where}: ${(err as Error).message}`));
    }
  });
  if (!hostKey) {
    client.end();
    throw new MpopError('MPOP_HOST_KEY', `${where} showed no host key`);
  }
  let sftp: Promise<SFTPWrapper> | undefined;
  return {
    hostKey,
    banner,
    run: (command, opts = {}) => runOn(client, command, opts),
    upload: async (local, remote) => {
      sftp ??= new Promise((resolve, reject) => {
        try {
          client.sftp((err, s) => (err ? reject(new MpopError('MPOP_ENROLL', `SFTP is not available on ${target.host}: ${err.message}`)) : resolve(s)));
        } catch (err) {
          reject(new MpopError('MPOP_UNREACHABLE', `the SSH connection to ${target.host} is closed (${(err as Error).message}); enroll again.`));
        }
      });
      const s = await sftp;
      await new Promise<void>((resolve, reject) =>
        s.fastPut(local, remote, { mode: 0o600 }, (err) => (err ? reject(new MpopError('MPOP_ENROLL', `uploading to ${target.host}:${remote} failed: ${err.message}`)) : resolve())),
      );
    },
    close: () => client.end(),
  };
}

/** runOn executes one command on a connection and collects its output. */
function runOn(client: InstanceType<typeof ssh2.Client>, command: string, opts: { input?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        reject(new MpopError('MPOP_UNREACHABLE', `the SSH connection is closed (${(err as Error).message}); enroll again.`));
      }
    };
    started(() => client.exec(command, (err, stream: ClientChannel) => {
      if (err) return reject(new MpopError('MPOP_ENROLL', `the SSH server would not run a command: ${err.message}`));
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let done = false;
      // A command past its time is given up on at once: its channel is closed (sshd hangs up on it) and
      // the caller goes on; OpenSSH may not deliver the KILL signal, so nothing waits for it.
      const stop = (e: MpopError): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        try {
          stream.signal('KILL');
        } catch { /* not supported */ }
        stream.close();
        reject(e);
      };
      const timer = opts.timeoutMs ? setTimeout(() => stop(new MpopError('MPOP_TIMEOUT', `\`${command.slice(0, 80)}\` took longer than ${Math.round(opts.timeoutMs! / 1000)} s`)), opts.timeoutMs) : undefined;
      const onAbort = (): void => stop(new MpopError('MPOP_CANCELLED', 'cancelled'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (c: Buffer) => out.push(c));
      stream.stderr.on('data', (c: Buffer) => errs.push(c));
      stream.on('close', (code: number | null, signalName?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (code === null || code === undefined) {
          if (!signalName) return reject(new MpopError('MPOP_UNREACHABLE', `the SSH connection dropped while \`${command.slice(0, 80)}\` ran`));
        }
        resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() });
      });
      stream.end(opts.input ?? '');
    }));
  });
}
