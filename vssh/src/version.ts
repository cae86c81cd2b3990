import { readFileSync } from 'node:fs';

/** VERSION is this package's version, as both ends report it. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
