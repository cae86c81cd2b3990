import type { VsshClient } from '@meshpop/vssh/client';
import { commandText } from '../exec.js';
import { absent, Absent, lines, ParseError, runTool, ToolError, ToolOptions } from './tool.js';

/** SENSORS_ARGV asks lm-sensors for every chip's readings as JSON. */
export const SENSORS_ARGV = ['sensors', '-j'];

/** SensorKind is what a reading measures, from its subfeature prefix (temp1_input is a temp). */
export type SensorKind = 'temp' | 'fan' | 'in' | 'power' | 'curr' | 'energy' | 'humidity' | 'intrusion' | 'other';

/** UNITS are the units of each kind as lm-sensors reports them. */
export const UNITS: Record<SensorKind, string> = { temp: '°C', fan: 'RPM', in: 'V', power: 'W', curr: 'A', energy: 'J', humidity: '%RH', intrusion: '', other: '' };

/** Reading is one sensor: a chip's feature, its current value and limits (null where the chip gives none). */
export interface Reading {
  chip: string;
  adapter: string | null;
  label: string;
  kind: SensorKind;
  input: number | null;
  min: number | null;
  max: number | null;
  crit: number | null;
  /** true when a *_alarm subfeature is set */
  alarm: boolean;
}

const KINDS = new Set<SensorKind>(['temp', 'fan', 'in', 'power', 'curr', 'energy', 'humidity', 'intrusion']);

/**
 * parseSensorsJson reads `sensors -j`: {chip: {"Adapter": text, feature label: {"<kind><n>_<attr>": number}}}
 * (lm-sensors' prog/sensors/chips_json.c). Features without an input value (limits only) are kept with input null.
 */
export function parseSensorsJson(text: string): Reading[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.trim() || '{}');
  } catch (err) {
    throw new ParseError('sensors -j', 1, text, `not JSON (${(err as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ParseError('sensors -j', 1, text, 'not a JSON object of chips');
  const out: Reading[] = [];
  for (const [chip, body] of Object.entries(doc as Record<string, unknown>)) {
    if (!body || typeof body !== 'object') continue;
    const adapter = typeof (body as Record<string, unknown>).Adapter === 'string' ? ((body as Record<string, unknown>).Adapter as string) : null;
    for (const [label, sub] of Object.entries(body as Record<string, unknown>)) {
      if (label === 'Adapter' || !sub || typeof sub !== 'object') continue;
      const r: Reading = { chip, adapter, label, kind: 'other', input: null, min: null, max: null, crit: null, alarm: false };
      for (const [name, value] of Object.entries(sub as Record<string, unknown>)) {
        const m = /^([a-z]+)\d*_([a-z_]+)$/.exec(name);
        if (!m || typeof value !== 'number') continue;
        if (KINDS.has(m[1] as SensorKind)) r.kind = m[1] as SensorKind;
        const attr = m[2]!;
        if (attr === 'input' || (attr === 'average' && r.input === null)) r.input = value;
        else if (attr === 'min') r.min = value;
        else if (attr === 'max') r.max = value;
        else if (attr === 'crit') r.crit = value;
        else if (attr.endsWith('alarm') && value !== 0) r.alarm = true;
      }
      out.push(r);
    }
  }
  return out;
}

/** THERMAL_ARGV prints each /sys/class/thermal zone as "zone<TAB>type<TAB>millidegrees" (the kernel's own files, no parsing of prose). */
export const THERMAL_ARGV = ['sh', '-c', 'for z in /sys/class/thermal/thermal_zone*; do [ -r "$z/temp" ] || continue; t=$(cat "$z/temp" 2>/dev/null) || continue; printf "%s\\t%s\\t%s\\n" "${z##*/}" "$(cat "$z/type" 2>/dev/null)" "$t"; done'];

/** parseThermal reads THERMAL_ARGV's lines into temperature readings. */
export function parseThermal(text: string): Reading[] {
  return lines(text).map(({ n, text: line }) => {
    const [zone, type, milli] = line.split('\t');
    if (!zone || milli === undefined || !/^-?\d+$/.test(milli.trim())) throw new ParseError('/sys/class/thermal', n, line, 'not zone, type and millidegrees');
    return { chip: zone, adapter: 'thermal zone', label: type || zone, kind: 'temp' as const, input: Number(milli) / 1000, min: null, max: null, crit: null, alarm: false };
  });
}

/** TempFacts are a node's readings and where they came from. */
export interface TempFacts {
  present: true;
  source: 'sensors' | 'thermal';
  readings: Reading[];
}

/**
 * readTemps reads lm-sensors on the node, or /sys/class/thermal when lm-sensors is not installed or sees
 * no chip. Neither is an Absent saying so ("no sensors on n1 (...)").
 */
export async function readTemps(client: VsshClient, opts: ToolOptions = {}): Promise<TempFacts | Absent> {
  const node = client.target.name;
  const run = await runTool(client, SENSORS_ARGV, opts);
  let why: string;
  if (run === 'missing') why = 'lm-sensors is not installed';
  else {
    // With no chip, sensors -j prints an empty object, "No sensors found!" on stderr, and exits 1.
    const readings = run.stdout.trim() ? parseSensorsJson(run.stdout) : [];
    if (readings.length) return { present: true, source: 'sensors', readings };
    if (run.exitCode !== 0 && !/No sensors found/i.test(run.stderr)) throw new ToolError(node, commandText({ argv: SENSORS_ARGV }), run.exitCode, run.stderr);
    why = 'lm-sensors found no sensor chip';
  }
  const zones = await runTool(client, THERMAL_ARGV, opts);
  const readings = zones === 'missing' || zones.exitCode !== 0 ? [] : parseThermal(zones.stdout);
  if (readings.length) return { present: true, source: 'thermal', readings };
  return absent(`no sensors on ${node} (${why}, and /sys/class/thermal has no zone)`);
}
