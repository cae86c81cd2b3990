/** @meshpop/mpop/mcp: mpop-mcp as a library (the MCP server, its guard, jobs, audit and tool catalogue). */
export { mcpMain } from './main.js';
export { Guard, type GuardConfig, type CallInfo, type Answer } from './guard.js';
export { Jobs, type Job, type JobView, type JobStatus } from './jobs.js';
export { Audit, redact, mcpAuditFile, type AuditEntry } from './audit.js';
export { capText, page, DEFAULT_MAX_TEXT } from './cap.js';
export { createMcpServer, serveStdio } from './sdk.js';
export { catalogue, parseToolsets, DEFAULT_TOOLSETS } from './tools/index.js';
export { TOOLSETS, defineTool, type ToolDef, type ToolContext, type ToolResult, type Toolset, type Annotations } from './tool.js';
