import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup, tempDir } from './cleanup.mjs';
import { run } from './spawn.mjs';

/**
 * scratchPassStore creates a GnuPG home with a passphrase-less key and a `pass` store in a temp dir,
 * inserts `secrets` ({ name: value }), and returns { env } for running `pass` on it. The gpg-agent is
 * already running and has used the key once. cleanup() stops the agent and removes everything.
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
  const fpr = run('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env }).match(/^fpr:+([0-9A-F]{40}):/m)[1];
  run('pass', ['init', fpr], { env });
  for (const [name, value] of Object.entries(secrets)) run('pass', ['insert', '--multiline', name], { env, input: value });
  run('gpgconf', ['--launch', 'gpg-agent'], { env });
  run('pass', ['show', Object.keys(secrets)[0]], { env });
  return { env };
}

/** passVersions returns the versions of `pass` and `gpg` on PATH. */
export function passVersions() {
  return {
    pass: run('pass', ['version']).match(/v(\d[\w.]*)/)?.[1] ?? 'unknown',
    gpg: run('gpg', ['--version']).match(/^gpg \(GnuPG\) (\S+)/m)?.[1] ?? 'unknown',
  };
}
