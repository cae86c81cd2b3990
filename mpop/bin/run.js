#!/usr/bin/env node
// `mpop exec` and `mpop status`, the commands run most, start without loading oclif (src/cli/exec.ts,
// src/facts/status-main.ts); everything else, and help, goes through the oclif commands. Each fast path
// parses the same flags as its oclif command, which calls the same function.
const FAST = {
  exec: async (argv) => (await import('../dist/cli/exec.js')).execMain(argv),
  status: async (argv) => (await import('../dist/facts/status-main.js')).statusMain(argv),
};
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const flags = dash >= 0 ? args.slice(0, dash) : args; // `-- grep -h x` is the remote command's, not ours
const help = flags.includes('--help') || flags.includes('-h');
const fast = Object.hasOwn(FAST, args[0] ?? '') && !help && (args[0] !== 'exec' || args.length > 1) ? FAST[args[0]] : undefined;
if (fast) {
  process.exitCode = await fast(args.slice(1));
  process.exit();
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
