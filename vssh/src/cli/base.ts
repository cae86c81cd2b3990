import { Command, Interfaces } from '@oclif/core';
import { VaultError, meshpopHome } from '@meshpop/vault/light';
import { VsshError } from '../errors.js';
import { vsshPaths, VsshPaths } from '../paths.js';
import { exitCodeOf, reportError } from './format.js';

export { EXIT, exitCodeOf, reportError, splitRemote, table, size, duration, progress, parseDuration } from './format.js';

/** VsshCommand is the base of every `vssh` command: --json, $MESHPOP_HOME, and errors printed once with an exit code. */
export abstract class VsshCommand extends Command {
  static override enableJsonFlag = true;

  protected get home(): string {
    return meshpopHome();
  }

  protected get paths(): VsshPaths {
    return vsshPaths(this.home);
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    if (err instanceof VsshError || err instanceof VaultError) {
      reportError(err, this.jsonEnabled());
      return this.exit(exitCodeOf(err));
    }
    return super.catch(err);
  }
}

