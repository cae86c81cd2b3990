import { readFileSync } from 'node:fs';
import { AgentVault } from './agent/remote.js';
import { agentStatus } from './agent/client.js';
import { VaultError } from './errors.js';
import { meshpopHome, vaultPaths } from './paths.js';
import { LocalVault, Unlock } from './store.js';
import { Vault } from './types.js';

/** OpenOptions say where the vault is and how it may be opened. */
export interface OpenOptions {
  /** `$MESHPOP_HOME` (default: the environment's, else ~/.meshpop) */
  home?: string;
  /** an explicit key; when absent the agent, SV_PASSWORD_FILE and SV_KEY_FILE are tried in that order */
  unlock?: Unlock;
  /** use a running unlock agent (default true) */
  agent?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** readPasswordFile reads a password from a file, without its final newline. */
export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VaultError('VAULT_BAD_INPUT', `cannot read the password file ${path} (${(err as NodeJS.ErrnoException).code ?? err}).`, { cause: err });
  }
  return text.replace(/\r?\n$/, '');
}

/**
 * openVault opens the vault for another layer or a command: through the running unlock agent when
 * there is one, else with `unlock`, else with `$SV_PASSWORD_FILE` or `$SV_KEY_FILE`. With none of these
 * it throws VAULT_LOCKED, whose message says what to do. Library code never prompts.
 *
 *   const vault = await openVault();
 *   const key = await vault.get('vssh/master');
 */
export async function openVault(opts: OpenOptions = {}): Promise<Vault> {
  const env = opts.env ?? process.env;
  const paths = vaultPaths(opts.home ?? meshpopHome(env));
  if (opts.unlock) return LocalVault.unlock(opts.unlock, { home: paths.home });
  if (opts.agent !== false && (await agentStatus(paths.socket))) return new AgentVault(paths.socket);
  if (env.SV_PASSWORD_FILE) return LocalVault.unlock({ password: readPasswordFile(env.SV_PASSWORD_FILE) }, { home: paths.home });
  if (env.SV_KEY_FILE) return LocalVault.unlock({ keyFile: env.SV_KEY_FILE }, { home: paths.home });
  // Say "not initialized" before "locked" when there is nothing to unlock.
  LocalVault.assertExists(paths);
  throw new VaultError('VAULT_LOCKED', 'the vault is locked: run `sv unlock`, or set SV_PASSWORD_FILE (or SV_KEY_FILE) for automation.');
}
