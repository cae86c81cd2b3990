import { describe, expect, it } from 'vitest';
import { parsePrometheus } from './promtext.js';

// The test parser must be strict, or /metrics "parsing" proves nothing.
describe('the test\'s Prometheus text parser', () => {
  it('reads a valid exposition with escapes, counters and special values', () => {
    const f = parsePrometheus('# HELP a_total x\n# TYPE a_total counter\na_total{node="n\\"1\\\\",mount="/"} 3\n# TYPE b gauge\nb NaN\nb{x="1"} +Inf 1700000000000\n');
    expect(f.get('a_total')!.samples[0]).toEqual({ name: 'a_total', labels: { node: 'n"1\\', mount: '/' }, value: 3 });
    expect(f.get('b')!.samples.map((s) => s.value)).toEqual([NaN, Infinity]);
  });
  it.each([
    ['no final newline', '# TYPE a gauge\na 1', /end with a newline/],
    ['a sample without a family', 'a 1\n', /without a TYPE or HELP/],
    ['a bad value', '# TYPE a gauge\na one\n', /not a sample value/],
    ['a bad escape', '# TYPE a gauge\na{l="\\t"} 1\n', /bad escape/],
    ['a series twice', '# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n', /twice/],
    ['a label twice', '# TYPE a gauge\na{l="1",l="2"} 1\n', /label l twice/],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n', /negative counter/],
    ['an unknown type', '# TYPE a meter\n', /bad type/],
    ['a reserved label', '# TYPE a gauge\na{__x="1"} 1\n', /bad label name/],
  ])('refuses %s', (_what, text, msg) => {
    expect(() => parsePrometheus(text)).toThrow(msg);
  });
});
