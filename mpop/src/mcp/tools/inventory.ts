import { z } from 'zod';
import type { EnrollEvent, StepReport } from '../../enroll/enroll.js';
import type { SshAuth } from '../../enroll/ssh.js';
import { readSecretFile } from '../../enroll/secret-file.js';
import { parseTarget } from '../../enroll/target.js';
import { MpopError } from '../../errors.js';
import { setGroup } from '../../inventory/file.js';
import { mpopPaths } from '../../paths.js';
import { listServers } from '../../servers.js';
import { defineTool, LOCAL_READ } from '../tool.js';

const server = z.object({
  name: z.string(),
  source: z.enum(['static', 'wire']),
  address: z.string(),
  via: z.string(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  wire: z.object({ status: z.string(), meshIp: z.string(), lastSeen: z.string().nullable(), endpoint: z.string().nullable() }).nullable(),
});

/** mpop_servers lists the fleet (local state only: fast, never touches a node). */
export const servers = defineTool({
  name: 'mpop_servers',
  title: 'List the fleet',
  description: 'Every node mpop can reach: its name, address, how it is found (nodes.json or the Wire mesh, with the mesh\'s online state and last sync), its groups and roles. Reads local state only; mpop_status asks the nodes. Start here to learn the node names and groups that other tools take as targets.',
  toolset: 'core',
  input: { group: z.string().optional().describe('only the nodes of this group or role (without the @)') },
  output: { nodes: z.array(server) },
  annotations: LOCAL_READ,
  async run({ group }, ctx) {
    const inv = await ctx.inventory();
    let rows = await listServers(inv);
    if (group) {
      const names = new Set(inv.resolve('@' + group.replace(/^@/, '')));
      rows = rows.filter((r) => names.has(r.name));
    }
    const text = rows.length
      ? rows.map((r) => `${r.name}  ${r.address} (${r.via})${r.wire ? `  ${r.wire.status}` : ''}${r.groups.length ? `  @${r.groups.join(' @')}` : ''}`).join('\n')
      : 'The fleet is empty: no node in nodes.json and no Wire mesh on this machine. Enroll one with mpop_enroll (inventory toolset).';
    return { data: { nodes: rows }, text };
  },
});

/** mpop_groups lists groups and roles. */
export const groups = defineTool({
  name: 'mpop_groups',
  title: 'List groups and roles',
  description: 'The groups (inventory.yaml and an Ansible inventory) and roles of the fleet, each with its members and the names it lists that are not in the fleet. Target a group or role as @name.',
  toolset: 'core',
  input: {},
  output: { groups: z.array(z.object({ name: z.string(), kind: z.enum(['group', 'role', 'ansible']), members: z.array(z.string()), missing: z.array(z.string()) })) },
  annotations: LOCAL_READ,
  async run(_args, ctx) {
    const inv = await ctx.inventory();
    return { data: { groups: inv.groups }, text: inv.groups.map((g) => `@${g.name} (${g.kind}): ${g.members.join(', ') || 'none in the fleet'}${g.missing.length ? `; not in the fleet: ${g.missing.join(', ')}` : ''}`).join('\n') || 'No groups yet (mpop_group_set makes one).' };
  },
});

/** mpop_group_set creates or replaces a group. */
export const groupSet = defineTool({
  name: 'mpop_group_set',
  title: 'Set a group',
  description: 'Create or replace a group in $MESHPOP_HOME/mpop/inventory.yaml (comments kept). Members are node names or globs such as web-*. Replacing a group changes what @name targets from then on.',
  toolset: 'inventory',
  input: {
    group: z.string().describe('the group name, targeted later as @group (letters, digits, . _ -)'),
    members: z.array(z.string()).min(1).describe('node names or globs'),
  },
  output: { group: z.string(), members: z.array(z.string()), missing: z.array(z.string()) },
  annotations: { readOnly: false, destructive: false, idempotent: true, openWorld: false },
  targets: ({ group }) => `@${group}`,
  async run({ group, members }, ctx) {
    setGroup(mpopPaths(ctx.home).inventory, group, members);
    const { loadInventory } = await import('../../inventory/inventory.js');
    const g = (await loadInventory({ home: ctx.home })).groups.find((x) => x.name === group && x.kind === 'group')!;
    return { data: { group, members: g.members, missing: g.missing }, text: `@${group}: ${g.members.join(', ') || 'no node of the fleet yet'}${g.missing.length ? ` (not in the fleet: ${g.missing.join(', ')})` : ''}` };
  },
});

const stepReport = z.object({ step: z.string(), status: z.enum(['ok', 'skipped', 'failed', 'not run']), detail: z.string(), durationMs: z.number(), error: z.object({ code: z.string(), message: z.string() }).optional() });

/** ENROLL_HINTS say what to do after an enroll failed with a code. */
const ENROLL_HINTS: Record<string, string> = {
  MPOP_UNREACHABLE: 'Check the address and port, and that sshd runs there; then call mpop_enroll again.',
  MPOP_HOST_KEY: 'Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and pass it as acceptHostKey.',
  MPOP_TIMEOUT: 'The node did not come up in time: mpop_heal_check and wire_diagnose look at why; enroll again once fixed.',
  MPOP_ENROLL: 'The failed step says why; fix that on the host and call mpop_enroll again (the steps before it are safe to repeat).',
};

/** mpop_enroll takes a machine that has only SSH into the fleet (what `mpop enroll` does), step by step. */
export const enrollTool = defineTool({
  name: 'mpop_enroll',
  title: 'Enroll a machine into the fleet',
  description:
    'Takes a machine that has only SSH into the fleet, as `mpop enroll` does, from this machine (the Wire coordinator\'s): connect over SSH (the host key checked against known_hosts; first contact needs acceptHostKey), check Linux and root or passwordless sudo, Node (installNode installs it), install the MeshPOP packages at this controller\'s version, make a join token, join the mesh, start the wire and vssh services, wait until the node answers vssh over the mesh, and record it (in group when given). Progress is sent per step; the result gives every step\'s outcome, and a failure stops at its step saying why. Log in with keyFile (passphraseFile if encrypted), passwordFile, or the server\'s ssh-agent / SSH_PASSWORD; secrets are never taken as arguments. It changes the host and the mesh: destructive, needs confirmation, and takes minutes (a job past the deadline).',
  toolset: 'inventory',
  input: {
    name: z.string().min(1).max(63).describe('the node\'s name in the mesh: lowercase letters, digits and dashes, e.g. "gpu3"'),
    host: z.string().min(1).max(300).describe('where to SSH to: user@host or host (then root), e.g. "root@203.0.113.7" or "admin@[2001:db8::7]"'),
    port: z.number().int().min(1).max(65535).optional().describe('the SSH port (default 22)'),
    keyFile: z.string().min(1).optional().describe('a private key file on the machine running mpop-mcp (OpenSSH ed25519 or RSA)'),
    passphraseFile: z.string().min(1).optional().describe('a file holding the key\'s passphrase (its first line)'),
    passwordFile: z.string().min(1).optional().describe('a file holding the SSH password (its first line); without key or password file the server\'s ssh-agent and SSH_PASSWORD are used'),
    acceptHostKey: z.string().regex(/^SHA256:[A-Za-z0-9+/=]{20,}$/).optional().describe('trust this host key fingerprint (SHA256:...) on first contact, after checking it on the host'),
    installNode: z.boolean().optional().describe('install Node >= 20.19 with apt when the host has none or an older one'),
    skipInstall: z.boolean().optional().describe('do not install the MeshPOP packages: they are already on the host'),
    group: z.string().min(1).optional().describe('add the node to this inventory group once enrolled'),
    waitSeconds: z.number().positive().max(3600).optional().describe('how long to wait for the node to answer vssh over the mesh (default 60)'),
    connectTimeoutSeconds: z.number().positive().max(600).optional().describe('give up on the SSH connection after this long (default 15)'),
    remoteHome: z.string().min(2).max(500).optional().describe('the node\'s MESHPOP_HOME on the host, an absolute path (default /var/lib/meshpop)'),
    prefix: z.string().min(1).max(500).optional().describe('install the packages in PREFIX/lib/meshpop and their bins in PREFIX/bin on the host, an absolute path (default /usr/local)'),
    interface: z.string().regex(/^[A-Za-z0-9_=+.-]{1,15}$/).optional().describe('the node\'s WireGuard interface name (default wire0)'),
  },
  output: {
    node: z.string(),
    host: z.string(),
    enrolled: z.boolean(),
    failedStep: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    steps: z.array(stepReport),
    meshIp: z.string().optional(),
    id: z.string().optional(),
    hostKey: z.object({ type: z.string(), fingerprint: z.string(), status: z.string() }).optional(),
    durationMs: z.number(),
  },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: ({ host, name }) => `${host} as ${name}`,
  confirm: ({ host, name, port, group }) => `Enroll ${host}${port && port !== 22 ? ` (SSH port ${port})` : ''} as node ${name}${group ? ` in @${group}` : ''}: install the MeshPOP packages there, join it to the mesh and start its services?`,
  async run(a, ctx) {
    // Loaded on first use: the SSH and Wire libraries cost the server's start otherwise.
    const [{ enroll, EnrollError, ENROLL_STEPS }, { checkNodeName }] = await Promise.all([import('../../enroll/enroll.js'), import('@meshpop/wire')]);
    // Bad names and hosts are usage errors before anything is touched (enroll checks them again).
    parseTarget(a.host);
    try {
      checkNodeName(a.name);
    } catch (err) {
      throw new MpopError('MPOP_USAGE', `${(err as Error).message}`);
    }
    if (a.passphraseFile && !a.keyFile) throw new MpopError('MPOP_USAGE', 'passphraseFile goes with keyFile');
    const auth: SshAuth = {
      ...(a.keyFile ? { keyFile: a.keyFile } : {}),
      ...(a.passphraseFile ? { passphrase: readSecretFile(a.passphraseFile, 'passphrase') } : {}),
      ...(a.passwordFile ? { password: readSecretFile(a.passwordFile, 'password') } : !a.keyFile && process.env.SSH_PASSWORD ? { password: process.env.SSH_PASSWORD } : {}),
      ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
    };
    const started = performance.now();
    const notRun = (done: StepReport[]) => [...done, ...ENROLL_STEPS.slice(done.length).map((step) => ({ step, status: 'not run' as const, detail: '', durationMs: 0 }))];
    try {
      const r = await enroll({
        home: ctx.home,
        name: a.name,
        target: a.host,
        ...(a.port ? { port: a.port } : {}),
        auth,
        ...(a.acceptHostKey ? { acceptHostKey: a.acceptHostKey } : {}),
        ...(a.installNode ? { installNode: true } : {}),
        ...(a.skipInstall ? { skipInstall: true } : {}),
        ...(a.group ? { group: a.group } : {}),
        ...(a.waitSeconds ? { waitMs: a.waitSeconds * 1000 } : {}),
        ...(a.remoteHome ? { remoteHome: a.remoteHome } : {}),
        ...(a.prefix ? { prefix: a.prefix } : {}),
        ...(a.interface ? { iface: a.interface } : {}),
        connectTimeoutMs: (a.connectTimeoutSeconds ?? 15) * 1000,
        signal: ctx.signal,
        onEvent: (e: EnrollEvent) => {
          if (e.type === 'start') ctx.progress({ done: e.index, total: e.total, message: `${e.step}...` });
          else if (e.type === 'detail') ctx.progress({ done: ENROLL_STEPS.indexOf(e.step), total: ENROLL_STEPS.length, message: `${e.step}: ${e.text}` });
          else ctx.progress({ done: e.index + 1, total: e.total, message: `${e.step} ${e.status}${e.status === 'ok' ? `: ${e.detail}` : ''}` });
        },
      });
      return {
        data: { node: r.node, host: a.host, enrolled: true, steps: r.steps, meshIp: r.meshIp, id: r.id, hostKey: r.hostKey, durationMs: r.durationMs },
        text: `${r.steps.map((s) => `${s.status === 'ok' ? 'ok  ' : s.status} ${s.step}: ${s.detail}`).join('\n')}\n${r.node} enrolled: ${r.meshIp} in the mesh, in ${Math.round(r.durationMs / 1000)} s. Try mpop_exec with target ${r.node}.${r.services.note ? `\nnote: ${r.services.note}` : ''}`,
      };
    } catch (err) {
      if (!(err instanceof EnrollError)) throw err; // usage, or this machine is not the coordinator: the guard says so
      const steps = notRun(err.steps);
      const hint = ENROLL_HINTS[err.code] ?? '';
      return {
        data: { node: a.name, host: a.host, enrolled: false, failedStep: err.step, error: { code: err.code, message: err.message }, steps, durationMs: Math.round(performance.now() - started) },
        text: `${steps.filter((s) => s.status !== 'not run').map((s) => `${s.status === 'ok' ? 'ok  ' : s.status} ${s.step}${s.status === 'failed' ? '' : `: ${s.detail}`}`).join('\n')}\nEnroll of ${a.host} as ${a.name} failed at ${err.step} (${err.code}): ${err.message}${hint ? `\n${hint}` : ''}`,
        isError: true,
      };
    }
  },
});
