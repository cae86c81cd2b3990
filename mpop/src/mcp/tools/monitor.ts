import type { ToolDef } from '../tool.js';

/** monitorTools: mpop_trend, mpop_alerts, mpop_watch (toolset monitoring, from the monitor database). */
export const monitorTools: ToolDef[] = [];
