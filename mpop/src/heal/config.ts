import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { MpopError } from '../errors.js';
import { parseDuration } from '../cli/format.js';

/**
 * HealConfig is `$MESHPOP_HOME/mpop/heal.yaml`: the checks' thresholds, what the disk fix may clean, which
 * fixes run without --fix, and the monitor's alert rules. Every key is optional:
 *
 *   thresholds:
 *     disk: 90            # % used above which a mount is a problem
 *     inodes: 90          # % of inodes used
 *     load: 2             # load1 per core
 *     memory: 10          # % available below which memory is under pressure
 *     psi: 10             # /proc/pressure/memory "some avg10" (%) above which memory is under pressure
 *     clock: 2s           # clock drift
 *     peerStale: 180s     # a mesh peer whose last handshake is older
 *   disk:
 *     mounts: [/, /var]   # the mounts to check (default: every real filesystem df shows)
 *     clean: [apt, journal, rotated, tmp]   # what the disk fix may remove (default: nothing)
 *     journalKeep: 200M   # journalctl --vacuum-size
 *     olderThanDays: 7    # rotated logs and tmp files older than this
 *     tmpDirs: [/tmp, /var/tmp]
 *     commands:           # extra cleaners of your own, run as argv (no shell) when listed in clean
 *       docker: [docker, system, prune, -f]
 *   units:
 *     ignore: [foo.service]
 *   auto: [unit]          # checks whose fix runs without --fix
 *   monitor:
 *     alerts: {disk: 90, memory: 10, load: 2, loadSamples: 3, unreachableRounds: 2}
 */
export interface HealConfig {
  thresholds: { disk: number; inodes: number; load: number; memory: number; psi: number; clockMs: number; peerStaleMs: number };
  disk: { mounts: string[] | null; clean: string[]; journalKeep: string; olderThanDays: number; tmpDirs: string[]; commands: Record<string, string[]> };
  units: { ignore: string[] };
  auto: string[];
  monitor: { alerts: AlertRules };
}

/** AlertRules are the monitor's thresholds: a rule fires after `samples`/`rounds` in a row and resolves when one clears. */
export interface AlertRules {
  /** disk use % above which a mount fires */
  disk: number;
  /** memory available % below which a node fires */
  memory: number;
  /** load1 per core above which a node fires, after loadSamples samples in a row */
  load: number;
  loadSamples: number;
  /** rounds in a row a node must be unreachable to fire */
  unreachableRounds: number;
}

/** DEFAULT_HEAL_CONFIG is what an absent heal.yaml means. */
export const DEFAULT_HEAL_CONFIG: HealConfig = {
  thresholds: { disk: 90, inodes: 90, load: 2, memory: 10, psi: 10, clockMs: 2000, peerStaleMs: 180_000 },
  disk: { mounts: null, clean: [], journalKeep: '200M', olderThanDays: 7, tmpDirs: ['/tmp', '/var/tmp'], commands: {} },
  units: { ignore: [] },
  auto: [],
  monitor: { alerts: { disk: 90, memory: 10, load: 2, loadSamples: 3, unreachableRounds: 2 } },
};

/** CLEANERS are the built-in disk cleaners; `disk.commands` adds named ones. */
export const CLEANERS = ['apt', 'journal', 'rotated', 'tmp'] as const;
/** CHECK_NAMES are the heal checks, in the order they run. */
export const CHECK_NAMES = ['vssh', 'disk', 'inodes', 'unit', 'mesh', 'load', 'memory', 'clock'] as const;

const pct = z.number().min(0).max(100);
const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  try {
    return parseDuration(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (examples: 2s, 3m, 1h)` });
    return z.NEVER;
  }
});
const absPath = z.string().regex(/^\/[^\0]*$/, 'an absolute path such as /var/tmp');
const cleanerName = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a cleaner name is lower-case letters, digits, "-" or "_"');

const schema = z
  .object({
    thresholds: z
      .object({ disk: pct, inodes: pct, load: z.number().positive(), memory: pct, psi: pct, clock: duration, peerStale: duration })
      .partial()
      .strict()
      .default({}),
    disk: z
      .object({
        mounts: z.array(absPath).min(1),
        clean: z.array(cleanerName),
        journalKeep: z.string().regex(/^\d+[KMGT]?$/, 'a size such as 200M'),
        olderThanDays: z.number().int().min(1),
        tmpDirs: z.array(absPath.refine((p) => p !== '/', 'never / itself')),
        commands: z.record(cleanerName, z.array(z.string().min(1)).min(1)),
      })
      .partial()
      .strict()
      .default({}),
    units: z.object({ ignore: z.array(z.string().min(1)) }).partial().strict().default({}),
    auto: z.array(z.enum(CHECK_NAMES)).default([]),
    monitor: z
      .object({
        alerts: z
          .object({ disk: pct, memory: pct, load: z.number().positive(), loadSamples: z.number().int().min(1), unreachableRounds: z.number().int().min(1) })
          .partial()
          .strict()
          .default({}),
      })
      .strict()
      .default({ alerts: {} }),
  })
  .strict();

/** readHealConfig reads and validates heal.yaml (the defaults when absent); a mistake is MPOP_HEAL naming the file, line and key. */
export function readHealConfig(file: string): HealConfig {
  if (!existsSync(file)) return structuredClone(DEFAULT_HEAL_CONFIG);
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new MpopError('MPOP_HEAL', `${file}${line ? `:${line}` : ''}: ${e.message.split('\n')[0]}; fix the YAML (see mpop heal --help for the keys).`);
  }
  const r = schema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String);
    const key = issue.code === 'unrecognized_keys' ? [...path, String(issue.keys[0])] : path;
    const at = (p: string[]): { range?: [number, number] } | undefined => (p.length ? (doc.getIn(p, true) as { range?: [number, number] } | undefined) : undefined);
    const node = issue.code === 'unrecognized_keys' ? findKey(doc, key) : at(path);
    const line = node?.range ? text.slice(0, node.range[0]).split('\n').length : undefined;
    const what = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys.join('", "')}"` : issue.message;
    throw new MpopError('MPOP_HEAL', `${file}${line ? `:${line}` : ''}: ${path.join('.') || 'the top level'}: ${what}`);
  }
  const d = r.data;
  const def = DEFAULT_HEAL_CONFIG;
  const t = d.thresholds;
  const cfg: HealConfig = {
    thresholds: {
      disk: t.disk ?? def.thresholds.disk,
      inodes: t.inodes ?? def.thresholds.inodes,
      load: t.load ?? def.thresholds.load,
      memory: t.memory ?? def.thresholds.memory,
      psi: t.psi ?? def.thresholds.psi,
      clockMs: t.clock ?? def.thresholds.clockMs,
      peerStaleMs: t.peerStale ?? def.thresholds.peerStaleMs,
    },
    disk: { ...def.disk, ...d.disk, mounts: d.disk.mounts ?? null, commands: d.disk.commands ?? {} },
    units: { ignore: d.units.ignore ?? [] },
    auto: d.auto,
    monitor: { alerts: { ...def.monitor.alerts, ...d.monitor.alerts } },
  };
  const unknown = cfg.disk.clean.find((c) => !(CLEANERS as readonly string[]).includes(c) && !(c in cfg.disk.commands));
  if (unknown) throw new MpopError('MPOP_HEAL', `${file}: disk.clean: "${unknown}" is neither a built-in cleaner (${CLEANERS.join(', ')}) nor one of disk.commands`);
  return cfg;
}

/** findKey finds the key node of an unknown key, for its line. */
function findKey(doc: ReturnType<typeof parseDocument>, path: string[]): { range?: [number, number] } | undefined {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: { key?: { value?: unknown; range?: [number, number] } }[] } | null)?.items ?? [];
  return items.find((i) => String(i.key?.value) === path[path.length - 1])?.key;
}
