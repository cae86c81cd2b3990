import { readFileSync } from 'node:fs';
import { openVault } from '@meshpop/vault';
import { controllerMaster } from '@meshpop/vssh';
import { MpopError } from '../errors.js';

/**
 * fleetMaster returns the vssh master that reaches the share nodes: from `file` when given (a copy of
 * vssh/master or wire/mesh-master, base64, as `sv get vssh/master` prints it), else from the controller's
 * vault when it opens (agent, SV_PASSWORD_FILE, SV_KEY_FILE). With neither, MPOP_SHARES says what to do:
 * a vault whose password is lost cannot give the key that reaches the nodes holding its shares.
 */
export async function fleetMaster(home: string, file?: string): Promise<{ master: Uint8Array; from: string }> {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new MpopError('MPOP_USAGE', `cannot read --master-file ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    const key = Buffer.from(text, 'base64');
    if (key.length < 32 || !/^[A-Za-z0-9+/=\s]+$/.test(text)) throw new MpopError('MPOP_USAGE', `--master-file ${file} does not hold a base64 key of 32 bytes or more (the value of vssh/master)`);
    return { master: new Uint8Array(key), from: file };
  }
  let vault;
  try {
    vault = await openVault({ home });
  } catch (err) {
    throw new MpopError('MPOP_SHARES', `the vault does not open (${(err as Error).message.replace(/\.$/, '')}), so it cannot give the vssh master that reaches the share nodes; pass --master-file with a copy of vssh/master (or the Wire coordinator's wire/mesh-master)`);
  }
  try {
    const { master, source } = await controllerMaster(vault);
    return { master, from: `vault (${source})` };
  } finally {
    await vault.close();
  }
}
