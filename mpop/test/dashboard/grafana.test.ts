import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FleetMetrics, METRIC_NAMES } from '../../src/metrics/fleet.js';

const read = (p: string): string => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('the Grafana dashboard and the README use the names /metrics exposes', () => {
  it('every metric in meshpop-fleet.json and in the README\'s dashboard section is one FleetMetrics registers', async () => {
    const registered = new Set((await new FleetMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    expect([...registered].sort()).toEqual([...METRIC_NAMES].sort());
    const grafana = JSON.parse(read('../../grafana/meshpop-fleet.json')) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(grafana.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/mpop_[a-z0-9_]+/g) ?? [])));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(registered.has(name), name).toBe(true);
    const readme = read('../../README.md');
    const section = readme.slice(readme.indexOf('## The dashboard'), readme.indexOf('\n## ', readme.indexOf('## The dashboard') + 5));
    for (const name of section.match(/mpop_[a-z0-9_]+/g) ?? []) expect(registered.has(name.replace(/_(1|5|15)$/, '$1')) || registered.has(name), name).toBe(true);
    const pkg = JSON.parse(read('../../package.json')) as { files: string[] };
    expect(pkg.files).toEqual(expect.arrayContaining(['grafana', 'src/dashboard/page']));
  });
});
