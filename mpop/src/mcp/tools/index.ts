import { z } from 'zod';
import type { Jobs } from '../jobs.js';
import { defineTool, LOCAL_READ, TOOLSETS, type ToolDef, type Toolset } from '../tool.js';
import { containerTools } from './containers.js';
import { exec, execScript } from './exec.js';
import { dashboard } from './dashboard.js';
import { deployTools } from './deploy.js';
import { factTools } from './facts.js';
import { fileTools } from './files.js';
import { enrollTool, groups, groupSet, servers } from './inventory.js';
import { healTools } from './heal.js';
import { logTools } from './logs.js';
import { monitorTools } from './monitor.js';
import { searchTools } from './search.js';
import { jobTools } from './jobs.js';
import { networkTools } from './network.js';
import { secretTools } from './secrets.js';
import { securityTools } from './security.js';
import { transportTools } from './transport.js';

/** DEFAULT_TOOLSETS are what an agent gets without --toolsets: the core, small enough to leave its context alone. */
export const DEFAULT_TOOLSETS: Toolset[] = ['core'];

/** catalogue is every tool the server can offer, before toolset and read-only filtering. */
export function catalogue(jobs: Jobs, enabled: () => Set<Toolset>): ToolDef[] {
  const tools: ToolDef[] = [...([servers, dashboard, groups, groupSet, enrollTool, exec, execScript, ...jobTools(jobs)] as unknown as ToolDef[]), ...factTools, ...deployTools, ...fileTools, ...networkTools, ...transportTools, ...secretTools, ...securityTools, ...containerTools, ...logTools, ...healTools, ...monitorTools, ...searchTools];
  const all: ToolDef[] = [...tools];
  const toolsets = defineTool({
    name: 'mpop_toolsets',
    title: 'List toolsets',
    description: 'The groups of tools this server has, which are enabled, and the tools in each. A disabled group is enabled by restarting mpop-mcp with --toolsets (e.g. --toolsets core,deploy,logs or --toolsets all).',
    toolset: 'core',
    input: {},
    output: { toolsets: z.array(z.object({ name: z.string(), description: z.string(), enabled: z.boolean(), tools: z.array(z.string()) })) },
    annotations: LOCAL_READ,
    async run() {
      const on = enabled();
      const sets = (Object.keys(TOOLSETS) as Toolset[]).map((name) => ({ name, description: TOOLSETS[name], enabled: on.has(name), tools: all.filter((t) => t.toolset === name).map((t) => t.name) }));
      return { data: { toolsets: sets }, text: sets.map((s) => `${s.enabled ? '[on] ' : '[off]'} ${s.name}: ${s.description} (${s.tools.length ? s.tools.join(', ') : 'no tools yet'})`).join('\n') + '\nEnable groups with: mpop-mcp --toolsets core,<group>,... (or all).' };
    },
  });
  all.push(toolsets as unknown as ToolDef);
  return all;
}

/** parseToolsets reads --toolsets ("core,deploy", "all"); an unknown name is an error listing the known ones. */
export function parseToolsets(text: string | undefined): Set<Toolset> {
  if (!text) return new Set(DEFAULT_TOOLSETS);
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.includes('all')) return new Set(Object.keys(TOOLSETS) as Toolset[]);
  const bad = names.filter((n) => !(n in TOOLSETS));
  if (bad.length) throw new Error(`unknown toolset ${bad.join(', ')}; the toolsets are ${Object.keys(TOOLSETS).join(', ')} and all`);
  return new Set(names as Toolset[]);
}
