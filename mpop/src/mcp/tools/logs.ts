import type { ToolDef } from '../tool.js';

/** logTools: mpop_logs, mpop_log_search, mpop_journal_errors, mpop_dmesg (toolset logs). */
export const logTools: ToolDef[] = [];
