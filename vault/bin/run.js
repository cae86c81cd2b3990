#!/usr/bin/env node
// `sv get NAME` through the unlock agent is served without loading oclif (see src/cli/fast.ts);
// everything else, and `get` when no agent runs, goes through the oclif commands.
import { fastGet } from '../dist/cli/fast.js';

if (!(await fastGet(process.argv.slice(2)))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
