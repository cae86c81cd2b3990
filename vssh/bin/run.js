#!/usr/bin/env node
// `vssh exec`, `put`, `get` and `sync` run without loading oclif (src/cli/exec.ts, src/cli/transfer.ts),
// so a one-shot command starts fast;
// `vssh NODE` opens a shell on NODE; everything else goes through the oclif commands.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const help = args.includes('--help') || args.includes('-h');
if (args[0] === 'exec' && !help && args.length > 1) {
  const { execMain } = await import('../dist/cli/exec.js');
  process.exitCode = await execMain(args.slice(1));
  // stdin may be an open pipe nobody will close: the command is over, so is the process.
  process.exit();
} else if ((args[0] === 'put' || args[0] === 'get' || args[0] === 'sync') && !help && args.length > 2) {
  const { transferMain } = await import('../dist/cli/transfer.js');
  process.exitCode = await transferMain(args[0], args.slice(1));
} else {
  if (args.length >= 1 && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(args[0]) && !help) {
    const manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'));
    const topics = new Set(Object.keys(manifest.commands).map((id) => id.split(':')[0]));
    if (!topics.has(args[0]) && args[0] !== 'help') process.argv.splice(2, 0, 'shell');
  }
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
