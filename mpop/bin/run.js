#!/usr/bin/env node
// `mpop exec` runs without loading oclif (src/cli/exec.ts), so a fan-out starts fast; everything else goes
// through the oclif commands.
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const flags = dash >= 0 ? args.slice(0, dash) : args; // `-- grep -h x` is the remote command's, not ours
const help = flags.includes('--help') || flags.includes('-h');
if (args[0] === 'exec' && !help && args.length > 1) {
  const { execMain } = await import('../dist/cli/exec.js');
  process.exitCode = await execMain(args.slice(1));
  process.exit();
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
