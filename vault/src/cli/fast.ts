import { agentRequest } from '../agent/client.js';
import { VaultError } from '../errors.js';
import { vaultPaths, meshpopHome } from '../paths.js';
import { reportError, valueJson, writeValue } from './output.js';

/**
 * fastGet serves `sv get NAME [--json]` through the unlock agent without loading oclif, so that a
 * script reading a secret pays for little more than Node's own start. It returns false when it does
 * not apply (other arguments, or no agent), and the full command runs instead.
 */
export async function fastGet(argv: string[]): Promise<boolean> {
  if (argv[0] !== 'get') return false;
  const rest = argv.slice(1);
  const json = rest.includes('--json');
  const names = rest.filter((a) => a !== '--json');
  if (names.length !== 1 || names[0]!.startsWith('-') || rest.length > 2) return false;
  const name = names[0]!;
  try {
    const { value } = await agentRequest<{ value: string }>(vaultPaths(meshpopHome()).socket, 'get', { name });
    const bytes = Buffer.from(value, 'base64');
    if (json) process.stdout.write(JSON.stringify(valueJson(name, bytes), null, 2) + '\n');
    else writeValue(bytes);
    return true;
  } catch (err) {
    if (err instanceof VaultError && err.code === 'VAULT_LOCKED') return false;
    process.exitCode = reportError(err, json);
    return true;
  }
}
