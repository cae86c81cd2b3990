import { Args, Flags } from '@oclif/core';
import { VsshCommand } from '../cli/base.js';
import { execMain } from '../cli/exec.js';

export default class Exec extends VsshCommand {
  static override summary = 'Run a command on a node, streaming its output; exits with the command\'s exit code.';
  static override description =
    'Runs argv without a shell (after --), or a shell string (--shell), in its own process group on the node. ' +
    'stdout and stderr stream as they come; stdin is forwarded when it is a pipe or a file (not with -n). ' +
    'Exit code: the command\'s; 124 when it timed out (its process group is killed); 128+N when killed by signal N; ' +
    '130 when cancelled with Ctrl-C; 255 when vssh could not run it.';
  static override examples = [
    '<%= config.bin %> exec g2 -- df -h /',
    '<%= config.bin %> exec g2 --shell \'journalctl -n 50 | grep -i error\'',
    '<%= config.bin %> exec g2 --timeout 30s --env LANG=C -- make test',
    'tar c site | <%= config.bin %> exec g2 -- tar x -C /srv',
  ];
  static override strict = false;
  static override args = { node: Args.string({ required: true, description: 'node name (nodes.json or the Wire mesh)' }) };
  static override flags = {
    shell: Flags.string({ char: 'c', description: 'run this string with /bin/sh -c' }),
    timeout: Flags.string({ char: 't', description: 'kill the command\'s process group after this long (30s, 5m, 2h)' }),
    env: Flags.string({ char: 'e', multiple: true, description: 'NAME=value for the command\'s environment' }),
    cwd: Flags.string({ description: 'working folder on the node' }),
    'max-output': Flags.integer({ description: 'send back at most this many bytes of output (default 64 MiB)' }),
    'no-stdin': Flags.boolean({ char: 'n', description: 'do not forward stdin' }),
  };

  async run(): Promise<void> {
    await this.parse(Exec); // checks the flags; the fast path's parser reads them
    // The same parser as the fast path in bin/run.js, so both read a command line the same way.
    const code = await execMain(this.argv);
    this.exit(code);
  }
}
