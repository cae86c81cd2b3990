import { z } from 'zod';
import { MpopError } from '../../errors.js';
import { defineTool, LOCAL_READ, type ToolContext, type ToolDef } from '../tool.js';

/** READABLE are the --vault-readable globs: vault_get returns a value only for a name one of them matches. */
let READABLE: { glob: string; re: RegExp }[] = [];

/** globRegExp turns a name glob into a RegExp: `*` is any run of characters but `/`, `**` any run at all, `?` one character. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** setVaultReadable is called once by mpop-mcp's command line with its --vault-readable globs. */
export function setVaultReadable(globs: string[]): void {
  READABLE = globs.filter((g) => g.trim()).map((glob) => ({ glob, re: globRegExp(glob) }));
}

/**
 * KEY_MATERIAL are the names of the fleet's own keys (vssh and wire masters and node keys, the HTTP bearer token):
 * no glob makes them readable, and vault_set / vault_delete refuse them, since losing or leaking one cuts off or
 * opens the whole fleet. The operator changes them with sv / vssh keys directly.
 */
const KEY_MATERIAL = /^(vssh\/|wire\/|mpop\/mcp-token$)/;

/** readable tells whether vault_get may return the value of `name`. */
export const readable = (name: string): boolean => !KEY_MATERIAL.test(name) && READABLE.some((g) => g.re.test(name));

const nameField = z.string().min(1).max(200).describe('the secret\'s name, e.g. "app/db-password"');
const info = z.object({ name: z.string(), version: z.number(), category: z.string(), tags: z.array(z.string()), created: z.string(), updated: z.string() });

/** withVault opens the vault (through the unlock agent, else the password/key file) for one call. */
async function withVault<T>(ctx: ToolContext, fn: (v: import('@meshpop/vault').Vault) => Promise<T>): Promise<T> {
  const { openVault } = await import('@meshpop/vault');
  const vault = await openVault({ home: ctx.home });
  try {
    return await fn(vault);
  } finally {
    await vault.close();
  }
}

const keyMaterial = (name: string): void => {
  if (KEY_MATERIAL.test(name)) throw new MpopError('MPOP_SECRET', `${name} is the fleet's own key material: mpop-mcp never changes it; the operator uses sv or vssh keys on the controller`);
};

const status = defineTool({
  name: 'vault_status',
  title: 'Vault status',
  description: 'The vault of this controller without opening it: initialized, damaged, how many secrets, how it unlocks, whether the unlock agent runs, Shamir shares, and whether its audit chain is intact. Also which names this server may give values of (--vault-readable).',
  toolset: 'secrets',
  input: {},
  output: { initialized: z.boolean(), damaged: z.string().optional(), secrets: z.number().nullable(), unlockWith: z.array(z.string()), agentRunning: z.boolean(), shares: z.object({ count: z.number(), threshold: z.number() }).nullable(), audit: z.object({ entries: z.number(), intact: z.boolean(), problem: z.string().optional() }), readable: z.array(z.string()) },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const s = await (await import('@meshpop/vault')).vaultStatus(ctx.home);
    const data = {
      initialized: s.initialized,
      ...(s.damaged ? { damaged: s.damaged } : {}),
      secrets: s.secrets ?? null,
      unlockWith: s.unlockWith ?? [],
      agentRunning: s.agent.running,
      shares: s.shares ? { count: s.shares.count, threshold: s.shares.threshold } : null,
      audit: { entries: s.audit.entries, intact: s.audit.intact, ...(s.audit.problem ? { problem: s.audit.problem } : {}) },
      readable: READABLE.map((g) => g.glob),
    };
    const text = !s.initialized
      ? 'no vault on this machine (sv init creates one)'
      : `vault: ${data.secrets ?? '?'} secrets${s.damaged ? `, DAMAGED: ${s.damaged}` : ''}; unlock with ${data.unlockWith.join(', ') || '?'}; agent ${data.agentRunning ? 'running' : 'not running'}; audit ${data.audit.entries} entries, ${data.audit.intact ? 'intact' : `BROKEN: ${data.audit.problem}`}; values readable here: ${data.readable.join(', ') || 'none'}`;
    return { data, text, isError: !s.initialized || !!s.damaged };
  },
});

const list = defineTool({
  name: 'vault_list',
  title: 'List secrets',
  description: 'The names of the vault\'s secrets with their metadata (version, category, tags, dates): never a value. prefix narrows it ("app/").',
  toolset: 'secrets',
  input: { prefix: z.string().optional().describe('only names starting with this, e.g. "app/"') },
  output: { secrets: z.array(info.extend({ readable: z.boolean() })) },
  annotations: LOCAL_READ,
  async run(a, ctx) {
    const all = await withVault(ctx, (v) => v.list());
    const secrets = all.filter((s) => !a.prefix || s.name.startsWith(a.prefix)).map((s) => ({ ...s, readable: readable(s.name) }));
    return { data: { secrets }, text: secrets.map((s) => `${s.name} v${s.version} ${s.category}${s.tags.length ? ` [${s.tags.join(', ')}]` : ''} updated ${s.updated}${s.readable ? ' (readable here)' : ''}`).join('\n') || (a.prefix ? `no secret starts with ${a.prefix}` : 'the vault holds no secrets') };
  },
});

const get = defineTool({
  name: 'vault_get',
  title: 'Read a secret',
  description: 'Returns a secret\'s value, only for names the operator allowed when starting the server (mpop-mcp --vault-readable GLOB); any other name is refused with how to allow it. The fleet\'s own keys (vssh/*, wire/*) are never given. The value is a credential: do not echo it.',
  toolset: 'secrets',
  input: { name: nameField },
  output: { name: z.string(), value: z.string(), encoding: z.enum(['utf8', 'base64']) },
  annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  targets: (a) => a.name,
  async run(a, ctx) {
    if (!readable(a.name)) {
      const why = KEY_MATERIAL.test(a.name) ? `${a.name} is the fleet's own key material and is never given out by mpop-mcp` : `this server gives no value of ${a.name}: the operator allows names by starting mpop-mcp with --vault-readable GLOB (e.g. --vault-readable 'app/*')${READABLE.length ? `; allowed now: ${READABLE.map((g) => g.glob).join(', ')}` : '; none is allowed now'}`;
      return { data: { name: a.name, value: '', encoding: 'utf8' as const }, text: `Refused: ${why}. vault_list shows names and metadata.`, isError: true };
    }
    const bytes = Buffer.from(await withVault(ctx, (v) => v.get(a.name)));
    const text = bytes.toString('utf8');
    const utf8 = Buffer.from(text, 'utf8').equals(bytes);
    const value = utf8 ? text : bytes.toString('base64');
    return { data: { name: a.name, value, encoding: utf8 ? ('utf8' as const) : ('base64' as const) }, text: `${a.name}${utf8 ? '' : ' (base64)'}: ${value}` };
  },
});

const set = defineTool({
  name: 'vault_set',
  title: 'Store a secret',
  description: 'Stores a new version of a secret (replacing the current value: destructive, asks for confirmation). The value never appears in the audit log or in errors. The fleet\'s own keys (vssh/*, wire/*) are refused.',
  toolset: 'secrets',
  input: { name: nameField, value: z.string().min(1).max(1024 * 1024).describe('the new value (UTF-8 text)'), category: z.string().optional().describe('a category for listing, e.g. "db"'), tags: z.array(z.string()).optional().describe('tags for listing') },
  output: { secret: info },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: false },
  targets: (a) => a.name,
  confirm: (a) => `Store a new value for the secret ${a.name} (the current one, if any, is replaced)?`,
  async run(a, ctx) {
    keyMaterial(a.name);
    const secret = await withVault(ctx, (v) => v.set(a.name, a.value, { ...(a.category ? { category: a.category } : {}), ...(a.tags ? { tags: a.tags } : {}) }));
    return { data: { secret }, text: `stored ${secret.name} version ${secret.version}` };
  },
});

const del = defineTool({
  name: 'vault_delete',
  title: 'Delete a secret',
  description: 'Deletes a secret and all its versions from the vault (destructive, asks for confirmation). The fleet\'s own keys (vssh/*, wire/*) are refused.',
  toolset: 'secrets',
  input: { name: nameField },
  output: { deleted: z.string() },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: false },
  targets: (a) => a.name,
  confirm: (a) => `Delete the secret ${a.name} from the vault (it cannot be recovered)?`,
  async run(a, ctx) {
    keyMaterial(a.name);
    await withVault(ctx, (v) => v.remove(a.name));
    return { data: { deleted: a.name }, text: `deleted ${a.name}` };
  },
});

const audit = defineTool({
  name: 'vault_audit',
  title: 'Vault audit records',
  description: 'The vault\'s own audit log (hash-chained): who read or wrote which secret names, when, and how (local or agent). Names only, never values. The newest last; filter by name.',
  toolset: 'secrets',
  input: { name: z.string().optional().describe('only records that touched this secret name'), limit: z.number().int().positive().max(10_000).optional().describe('the newest N records (default 100)') },
  output: { total: z.number(), records: z.array(z.object({ seq: z.number(), time: z.string(), op: z.string(), names: z.array(z.string()), via: z.string(), uid: z.number().optional(), ok: z.boolean().optional() })) },
  annotations: LOCAL_READ,
  async run(a, ctx) {
    const v = await import('@meshpop/vault');
    const all = v.readAudit(v.vaultPaths(ctx.home)).filter((r) => !a.name || (r.names ?? []).includes(a.name));
    const records = all.slice(-(a.limit ?? 100)).map((r) => ({ seq: r.seq, time: r.ts, op: r.op, names: r.names ?? [], via: r.via, ...(r.uid !== undefined ? { uid: r.uid } : {}), ...(r.ok !== undefined ? { ok: r.ok } : {}) }));
    return { data: { total: all.length, records }, text: records.map((r) => `${r.time} #${r.seq} ${r.op}${r.ok === false ? ' (failed)' : ''} ${r.names.join(', ')} via ${r.via}${r.uid !== undefined ? ` uid ${r.uid}` : ''}`).join('\n') || 'no audit records' };
  },
});

/** secretTools are the `secrets` toolset over the vault library. */
export const secretTools: ToolDef[] = [status, list, get, set, del, audit] as unknown as ToolDef[];
