import { createRequire } from 'node:module';

/** VERSION is the version of @meshpop/mpop, from its package.json. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
