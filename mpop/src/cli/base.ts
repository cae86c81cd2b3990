import { Command, Flags, Interfaces } from '@oclif/core';
import { meshpopHome } from '@meshpop/vault/light';
import { Pool } from '@meshpop/vssh/client';
import { MpopError } from '../errors.js';
import { Inventory, loadInventory } from '../inventory/inventory.js';
import { mpopPaths, MpopPaths } from '../paths.js';
import { exitCodeOf, isKnownError, parseDuration, reportError } from './format.js';

export * from './format.js';

/** fanoutFlags are the flags of every command that runs on many nodes. */
export const fanoutFlags = {
  concurrency: Flags.integer({ char: 'f', description: 'nodes at once (default 500)', min: 1 }),
  timeout: Flags.string({ char: 't', description: 'per node: give up on a node after this long (30s, 5m); the others go on' }),
  batch: Flags.string({ char: 'b', description: 'rolling waves of N nodes or N% of them, one wave after the other' }),
  'stop-on-error': Flags.boolean({ description: 'start no new node once one has failed' }),
  inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
};

/** FanoutFlagValues are the parsed fanoutFlags. */
export interface FanoutFlagValues {
  concurrency?: number;
  timeout?: string;
  batch?: string;
  'stop-on-error'?: boolean;
  inventory?: string;
}

/** MpopCommand is the base of every `mpop` command: --json, $MESHPOP_HOME, a pool closed at the end, errors printed once with an exit code. */
export abstract class MpopCommand extends Command {
  static override enableJsonFlag = true;
  #pool: Pool | undefined;

  protected get home(): string {
    return meshpopHome();
  }

  protected get paths(): MpopPaths {
    return mpopPaths(this.home);
  }

  /** inventory loads the fleet (with an extra Ansible inventory when given). */
  protected inventory(ansible?: string): Promise<Inventory> {
    return loadInventory({ home: this.home, ...(ansible ? { ansible } : {}) });
  }

  /** pool is the command's connection pool (one connection per node), closed when the command ends. */
  protected get pool(): Pool {
    this.#pool ??= new Pool({ home: this.home, retries: 1 });
    return this.#pool;
  }

  /** fanoutOptions reads the fan-out flags into library options. */
  protected fanoutOptions(flags: FanoutFlagValues): { concurrency?: number; timeoutMs?: number; batch?: string; stopOnError?: boolean } {
    return {
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
      ...(flags.batch ? { batch: flags.batch } : {}),
      ...(flags['stop-on-error'] ? { stopOnError: true } : {}),
    };
  }

  /** signal is aborted by Ctrl-C (SIGINT) or SIGTERM, so a run stops its remote work. */
  protected signal(): AbortSignal {
    const ac = new AbortController();
    const stop = (): void => {
      if (ac.signal.aborted) process.exit(130);
      ac.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return ac.signal;
  }

  /** usage throws a usage error (exit 2). */
  protected usage(message: string): never {
    throw new MpopError('MPOP_USAGE', message);
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    if (isKnownError(err)) {
      reportError(err, this.jsonEnabled());
      return this.exit(exitCodeOf(err));
    }
    return super.catch(err);
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    await this.#pool?.close();
    return super.finally(err);
  }
}
