// demo.mjs: the README's main job. Until the lab exists (wire, vssh), it is a tour of the vault: a real
// vault in a throwaway $MESHPOP_HOME, with default Argon2id parameters, driven through the built `sv`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SV = fileURLToPath(new URL('../vault/bin/run.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'meshpop-demo-'));
const pwFile = join(home, 'password');
writeFileSync(pwFile, 'demo password\n', { mode: 0o600 });
const withPassword = { MESHPOP_HOME: home, SV_PASSWORD_FILE: pwFile };
const noPassword = { MESHPOP_HOME: home };

function sv(args, env, input) {
  const shown = input === undefined ? '' : `printf '%s' '${input}' | `;
  console.log(`\n$ ${shown}sv ${args.join(' ')}${env === noPassword ? '        # no password: the agent answers' : ''}`);
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [SV, ...args], { env: { ...process.env, ...env }, input: input ?? '', encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`sv ${args[0]} exited with ${r.status}`);
  return ms;
}

let failed = false;
try {
  console.log(`MeshPOP vault tour, in ${home}`);
  sv(['init', '--shares', '5', '--threshold', '3'], withPassword);
  sv(['set', 'demo/api-token', '--tag', 'demo'], withPassword, 'tok-4f9c2e71');
  sv(['set', 'vssh/master', '--tag', 'mesh'], withPassword, 'b7e1c0de-not-a-real-key');
  const unlockMs = sv(['unlock', '--timeout', '5m'], withPassword);
  const getMs = sv(['get', 'demo/api-token'], noPassword);
  console.log(`\n(unlock took ${unlockMs.toFixed(0)} ms with Argon2id m=64 MiB t=3 p=4; get through the agent ${getMs.toFixed(0)} ms as a whole process)`);
  sv(['list'], noPassword);
  sv(['exec', '--', 'sh', '-c', 'echo "the child sees DEMO_API_TOKEN=$DEMO_API_TOKEN"'], noPassword);
  sv(['verify'], noPassword);
  sv(['audit', '--limit', '20'], noPassword);
  sv(['status'], noPassword);
} catch (err) {
  failed = true;
  console.error(`\ndemo failed: ${err.message}`);
} finally {
  spawnSync(process.execPath, [SV, 'lock'], { env: { ...process.env, ...noPassword }, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
  console.log('\nLocked and removed the demo vault.');
}
process.exit(failed ? 1 : 0);
