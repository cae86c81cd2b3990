import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup, tempDir } from './cleanup.mjs';
import { run } from './spawn.mjs';

/**
 * scratchPassStore creates a GnuPG home with a passphrase-less key and a `pass` store in a temp dir,
 * inserts `secrets` ({ name: value }), and returns { env, key }: the environment for running `pass` on
 * it, and the encryption key's algorithm (GnuPG's default). The gpg-agent is already running and has
 * used the key once. cleanup() stops the agent and removes everything.
 */
export function scratchPassStore(secrets) {
  const dir = tempDir('meshpop-bench-pass-');
  const env = { ...process.env, GNUPGHOME: join(dir, 'gnupg'), PASSWORD_STORE_DIR: join(dir, 'store') };
  mkdirSync(env.GNUPGHOME, { mode: 0o700 });
  onCleanup(() => {
    run('gpgconf', ['--kill', 'all'], { env });
    run('gpgconf', ['--remove-socketdir'], { env });
  });
  const uid = 'MeshPOP bench <bench@meshpop.invalid>';
  run('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', uid, 'default', 'default', 'never'], { env });
  const listing = run('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env });
  const fpr = listing.match(/^fpr:+([0-9A-F]{40}):/m)[1];
  const sub = listing.split('\n').find((l) => l.startsWith('ssb:')).split(':');
  const key = sub[3] === '1' ? `rsa${sub[2]}` : sub[16] || `algorithm ${sub[3]}`;
  run('pass', ['init', fpr], { env });
  for (const [name, value] of Object.entries(secrets)) run('pass', ['insert', '--multiline', name], { env, input: value });
  run('gpgconf', ['--launch', 'gpg-agent'], { env });
  run('pass', ['show', Object.keys(secrets)[0]], { env });
  return { env, key };
}

/** passVersions returns the versions of `pass` and `gpg` on PATH. */
export function passVersions() {
  return {
    pass: run('pass', ['version']).match(/v(\d[\w.]*)/)?.[1] ?? 'unknown',
    gpg: run('gpg', ['--version']).match(/^gpg \(GnuPG\) (\S+)/m)?.[1] ?? 'unknown',
  };
}
