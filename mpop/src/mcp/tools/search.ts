import type { ToolDef } from '../tool.js';

/** searchTools: meshdb_search, meshdb_semantic, meshdb_find, meshdb_read, meshdb_status, meshdb_index (toolset search; meshdb is imported lazily). */
export const searchTools: ToolDef[] = [];
