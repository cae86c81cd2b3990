// The command table oclif loads (explicit, since a command named `index` cannot be a file named index.ts).
import Find from './commands/find.js';
import Forget from './commands/forget.js';
import Index from './commands/index-files.js';
import Read from './commands/read.js';
import Reindex from './commands/reindex.js';
import Search from './commands/search.js';
import Semantic from './commands/semantic.js';
import Status from './commands/status.js';

export const COMMANDS = { find: Find, forget: Forget, index: Index, read: Read, reindex: Reindex, search: Search, semantic: Semantic, status: Status };
