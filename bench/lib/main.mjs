import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cleanup } from './cleanup.mjs';

/**
 * runIfMain runs `run()` and prints its JSON result when `metaUrl` is the file node was started with.
 * On SIGINT or SIGTERM it runs cleanup() before exiting; run() cleans up after itself otherwise.
 */
export async function runIfMain(metaUrl, run) {
  if (!process.argv[1] || realpathSync(process.argv[1]) !== realpathSync(fileURLToPath(metaUrl))) return;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    process.once(signal, () => {
      cleanup();
      process.exit(code);
    });
  }
  try {
    process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exitCode = 1;
  }
}
