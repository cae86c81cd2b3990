import { readFileSync, writeFileSync } from 'node:fs';
import { WireError } from '../errors.js';
import { run } from '../wg/run.js';

/**
 * Relay is the coordinator's forwarding between nodes that cannot reach each other (`wire serve
 * --relay`), confined to the mesh: IPv4 forwarding is switched on for the mesh interface alone
 * (net.ipv4.conf.IFACE.forwarding, not the host-wide ip_forward), and an nftables table of its own lets
 * forwarded packets go from the mesh interface to the mesh interface only; anything else forwarded in or
 * out of it is dropped. `remove()` deletes the table and puts back the value it found.
 */
export class Relay {
  readonly table: string;
  #before: string | undefined;

  constructor(readonly iface: string) {
    this.table = `meshpop_wire_${iface.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }

  get #sysctl(): string {
    return `/proc/sys/net/ipv4/conf/${this.iface}/forwarding`;
  }

  /** ruleset is the nftables transaction that (re)creates the table: create, delete, define, at once. */
  ruleset(): string {
    const i = JSON.stringify(this.iface);
    return [
      `table inet ${this.table}`,
      `delete table inet ${this.table}`,
      `table inet ${this.table} {`,
      '  chain forward {',
      '    type filter hook forward priority filter - 10; policy accept;',
      `    iifname ${i} oifname ${i} accept`,
      `    iifname ${i} counter drop`,
      `    oifname ${i} counter drop`,
      '  }',
      '}',
      '',
    ].join('\n');
  }

  /** check fails with WIRE_MISSING_TOOL when nft is not installed (before anything is brought up). */
  async check(): Promise<void> {
    await run('nft', ['--version']);
  }

  /** apply loads the table and turns forwarding on for the interface (again after the interface was re-created). */
  async apply(): Promise<void> {
    await run('nft', ['-f', '-'], { input: this.ruleset() });
    try {
      this.#before ??= readFileSync(this.#sysctl, 'utf8').trim();
      writeFileSync(this.#sysctl, '1\n');
    } catch (err) {
      throw new WireError('WIRE_COMMAND_FAILED', `cannot turn on forwarding for ${this.iface} (${(err as NodeJS.ErrnoException).code}) in /proc/sys/net/ipv4/conf: relaying needs root and the interface.`, { cause: err });
    }
  }

  /** remove deletes the table and restores the interface's forwarding setting (if the interface is still there). */
  async remove(): Promise<void> {
    await run('nft', ['delete', 'table', 'inet', this.table]).catch(() => undefined);
    if (this.#before !== undefined) {
      try {
        writeFileSync(this.#sysctl, `${this.#before}\n`);
      } catch {
        // The interface is gone, and its setting with it.
      }
    }
  }
}
