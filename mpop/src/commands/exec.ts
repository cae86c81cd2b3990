import { Args, Flags } from '@oclif/core';
import { MpopCommand } from '../cli/base.js';
import { execMain } from '../cli/exec.js';

export default class Exec extends MpopCommand {
  static override summary = 'Run a command on many nodes at once; identical outputs folded, a recap per outcome.';
  static override description =
    'Runs argv without a shell (after --), or a shell string (--shell), on every node of TARGET in parallel over one ' +
    'vssh connection per node. A node that is down, refuses, or passes its --timeout is its own outcome; the others go on. ' +
    'At the end, identical outputs are folded into one block headed by the nodes that gave them (as clush -b does), then ' +
    'one recap line per outcome. TARGET: a node, @group, a glob (\'web-*\'), a comma list, all, @failed or @changed ' +
    '(the previous run\'s sets), !node to leave one out. Exit code: 0 when every node exited 0; 1 when any did not; ' +
    '2 for a usage error; 3 when the target matches nothing.';
  static override examples = [
    '<%= config.bin %> exec all -- uptime',
    '<%= config.bin %> exec @gpu --shell \'nvidia-smi | head\'',
    '<%= config.bin %> exec \'web-*\' -- systemctl is-active nginx',
    '<%= config.bin %> exec @failed -- true',
    '<%= config.bin %> exec all --batch 25% --stop-on-error -- apt-get -y upgrade',
    '<%= config.bin %> exec all --stream -- journalctl -f -n 0',
  ];
  static override strict = false;
  static override args = { target: Args.string({ required: true, description: 'a node, @group, glob, comma list, all, @failed or @changed' }) };
  static override flags = {
    shell: Flags.string({ char: 'c', description: 'run this string with /bin/sh -c on each node' }),
    timeout: Flags.string({ char: 't', description: 'per node: kill the command after this long (30s, 5m); that node is timed out' }),
    env: Flags.string({ char: 'e', multiple: true, description: 'NAME=value for the command\'s environment' }),
    cwd: Flags.string({ description: 'working folder on each node' }),
    concurrency: Flags.string({ char: 'f', description: 'nodes at once (default 500)' }),
    batch: Flags.string({ char: 'b', description: 'rolling waves of N nodes or N% of them' }),
    'stop-on-error': Flags.boolean({ description: 'start no new node once one has failed' }),
    stream: Flags.boolean({ char: 's', description: 'print output as it comes, each line prefixed by its node (no folding)' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
    'max-output': Flags.string({ description: 'per node: send back at most this many bytes of output' }),
  };

  async run(): Promise<void> {
    // The same parser as the fast path in bin/run.js, so both read a command line the same way.
    this.exit(await execMain(this.argv));
  }
}
