#!/usr/bin/env node
// mpop-mcp: the MCP server. Nothing but protocol messages goes to stdout.
const { mcpMain } = await import('../dist/mcp/main.js');
process.exitCode = await mcpMain(process.argv.slice(2));
process.exit();
