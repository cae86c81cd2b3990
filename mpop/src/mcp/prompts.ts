/**
 * mpop-mcp's prompts, independent of the SDK (sdk.ts registers them): short playbooks that tell the agent
 * which tools to call in which order, and what to ask the user to confirm. Every tool they name is listed in
 * `tools`; a tool this server does not offer (its toolset not enabled, or read-only mode) is said so in the text.
 */

/** PromptArg is one argument of a prompt (MCP prompt arguments are strings). */
export interface PromptArg {
  description: string;
  required: boolean;
  /** completed with node names and @groups */
  completeTarget?: boolean;
}

/** ToolAvailability says of a tool name whether this server offers it, and in which toolset it is. */
export type ToolAvailability = (name: string) => { toolset: string; offered: boolean } | undefined;

/** PromptDef is one prompt: its arguments, the tools its text names, and the text. */
export interface PromptDef {
  name: string;
  title: string;
  description: string;
  args: Record<string, PromptArg>;
  tools: string[];
  text(args: Record<string, string | undefined>): string;
}

const troubleshoot: PromptDef = {
  name: 'troubleshoot',
  title: 'Troubleshoot nodes',
  description: 'Find out why something is wrong on some nodes, reading before changing anything.',
  args: {
    target: { description: 'the nodes: a node, @group, glob or all', required: true, completeTarget: true },
    symptom: { description: 'what is wrong, in a sentence (e.g. "the site answers 502")', required: false },
  },
  tools: ['mpop_status', 'mpop_heal_check', 'mpop_journal_errors', 'mpop_services', 'mpop_logs', 'mpop_ports', 'mpop_ps', 'mpop_exec', 'mpop_service_restart', 'mpop_heal_fix'],
  text: ({ target, symptom }) =>
    [
      `Troubleshoot ${target}${symptom ? `: ${symptom}` : ''}.`,
      `1. mpop_status on ${target}: which nodes answer, and their load, memory and disks.`,
      `2. mpop_heal_check on ${target}: disk full, services down, stale mesh peers.`,
      `3. mpop_journal_errors and mpop_services for failed units; mpop_logs for the service in question; mpop_ports and mpop_ps when something should listen or run.`,
      '4. Say what you found and what you would change, per node. Only read until then; mpop_exec only for read-only commands.',
      '5. Fix only after the user agreed to the exact change: mpop_service_restart or mpop_heal_fix (both ask for confirmation), then check again with mpop_status.',
    ].join('\n'),
};

const deploy: PromptDef = {
  name: 'deploy',
  title: 'Deploy a release',
  description: 'Deploy a local folder to TARGET:PATH safely: dry run, canary, health check, rollback if it fails.',
  args: {
    source: { description: 'the local folder to deploy (on the machine running mpop-mcp)', required: true },
    target: { description: 'TARGET:PATH, e.g. @web:/var/www/site', required: true, completeTarget: true },
    health: { description: 'a shell command that exits 0 when a node is healthy, e.g. "curl -fsS localhost:8080/health"', required: false },
  },
  tools: ['mpop_status', 'mpop_releases', 'mpop_deploy', 'mpop_rollback'],
  text: ({ source, target, health }) =>
    [
      `Deploy ${source} to ${target}.`,
      `1. mpop_status on the nodes of ${target}: deploy only to nodes that answer.`,
      `2. mpop_releases with that path: note the live release on each node (the one to roll back to).`,
      `3. mpop_deploy with dryRun: true, and show the user what would cross and be deleted.`,
      `4. After the user confirmed, mpop_deploy with batch "1" (a canary node first)${health ? ` and health "${health}"` : ' and a health check if the user gives one'}.`,
      '5. If a node failed its health check it was rolled back and the rollout stopped: report it. If the user wants everything back, mpop_rollback (it asks for confirmation).',
      '6. mpop_releases again to show the new live release per node.',
    ].join('\n'),
};

const healthReport: PromptDef = {
  name: 'health_report',
  title: 'Fleet health report',
  description: 'A read-only health report of nodes: reachability, resources, failing services and checks, alerts.',
  args: { target: { description: 'the nodes (default all)', required: false, completeTarget: true } },
  tools: ['mpop_servers', 'mpop_status', 'mpop_heal_check', 'mpop_disk', 'mpop_alerts', 'mpop_journal_errors'],
  text: ({ target }) =>
    [
      `Write a health report of ${target || 'all'}. Change nothing.`,
      '1. mpop_servers: the nodes and their groups.',
      `2. mpop_status on ${target || 'all'}: unreachable nodes first, then warn and crit readings.`,
      '3. mpop_heal_check: the failing checks per node; mpop_disk for disks near full; mpop_alerts for what the monitor raised.',
      '4. mpop_journal_errors on the nodes that look unwell.',
      '5. Report: a line per node that needs attention (what, since when, suggested fix), then a one-line summary of the healthy ones.',
    ].join('\n'),
};

const incident: PromptDef = {
  name: 'incident',
  title: 'Incident response',
  description: 'Respond to an incident: scope it, find the cause, act only with the user\'s confirmation, and keep a timeline.',
  args: { description: { description: 'what is happening, as reported', required: true } },
  tools: ['mpop_servers', 'mpop_status', 'mpop_heal_check', 'mpop_log_search', 'mpop_journal_errors', 'mpop_diff', 'mpop_releases', 'mpop_rollback', 'mpop_service_restart', 'mpop_heal_fix'],
  text: ({ description }) =>
    [
      `Incident: ${description}`,
      'Keep a timeline (time, what you saw, what you did) and give it at the end.',
      '1. Scope: mpop_servers and mpop_status on all: which nodes are affected, which answer.',
      '2. Cause: mpop_heal_check on the affected nodes; mpop_log_search across them for the error text; mpop_journal_errors; mpop_diff against a healthy node; mpop_releases if a deploy is suspected.',
      '3. Propose the smallest fix and ask the user. Then only: mpop_rollback, mpop_service_restart or mpop_heal_fix (each asks for confirmation).',
      '4. Verify with mpop_status and mpop_heal_check; say what is still open.',
    ].join('\n'),
};

/** PROMPTS are every prompt mpop-mcp serves. */
export const PROMPTS: PromptDef[] = [troubleshoot, deploy, healthReport, incident];

/** renderPrompt is a prompt's text, with a note on the tools it names that this server does not offer. */
export function renderPrompt(def: PromptDef, args: Record<string, string | undefined>, availability: ToolAvailability): string {
  const missing = def.tools.map((t) => ({ t, a: availability(t) })).filter((x) => !x.a?.offered);
  if (!missing.length) return def.text(args);
  const sets = [...new Set(missing.map((m) => m.a?.toolset).filter((s): s is string => !!s))];
  return `${def.text(args)}\n\nNot offered by this server: ${missing.map((m) => `${m.t}${m.a ? ` (${m.a.toolset})` : ''}`).join(', ')}. Do without them, or ask the operator to restart mpop-mcp${sets.length ? ` with --toolsets core,${sets.join(',')}` : ''} (and without --read-only for tools that change things).`;
}
