import type { ToolDef } from '../tool.js';

/** healTools: mpop_checks, mpop_heal_check, mpop_heal_fix (toolset heal). */
export const healTools: ToolDef[] = [];
