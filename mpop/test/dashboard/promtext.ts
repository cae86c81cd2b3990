/**
 * A strict parser of the Prometheus text exposition format (0.0.4), written for the tests and independent of
 * prom-client: every line must be a HELP, a TYPE or a sample of a family declared before it; names, label
 * names, escapes and values are checked; a series seen twice is an error.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: "${s}" is not a sample value`);
  return Number(s);
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`line ${line}: bad label at "${text.slice(i, i + 20)}"`);
    const name = m[1]!;
    if (!LABEL.test(name) || name.startsWith('__')) throw new Error(`line ${line}: bad label name ${name}`);
    i += m[0].length;
    let v = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (ch === '\\') {
        const nx = text[i + 1];
        if (nx === '\\') v += '\\';
        else if (nx === '"') v += '"';
        else if (nx === 'n') v += '\n';
        else throw new Error(`line ${line}: bad escape \\${nx}`);
        i += 2;
        continue;
      }
      if (ch === '"') break;
      if (ch === '\n') throw new Error(`line ${line}: raw newline in a label value`);
      v += ch;
      i++;
    }
    i++;
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    labels[name] = v;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected , or } after label ${name}`);
  }
}

/** parsePrometheus reads an exposition; it throws on the first thing that is not strictly valid. */
export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: bad type ${rest}`);
        if (f.samples.length) throw new Error(`line ${n}: TYPE of ${name} after its samples`);
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{|\s)/.exec(raw);
    if (!m) throw new Error(`line ${n}: not a sample: ${raw.slice(0, 80)}`);
    const name = m[1]!;
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), n));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || !rest.startsWith(' ')) throw new Error(`line ${n}: expected " value [timestamp]"`);
    const value = parseValue(parts[0]!, n);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${n}: bad timestamp ${parts[1]}`);
    const base = families.get(name) ?? families.get(name.replace(/_(sum|count|bucket)$/, ''));
    if (!base) throw new Error(`line ${n}: sample of ${name} without a TYPE or HELP before it`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${n}: series ${key} twice`);
    seen.add(key);
    if (base.type === 'counter' && value < 0) throw new Error(`line ${n}: negative counter ${name}`);
    base.samples.push({ name, labels, value });
  });
  return families;
}

/** sample finds one sample by name and labels (a subset), or undefined. */
export function sample(f: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample | undefined {
  return f.get(name)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
