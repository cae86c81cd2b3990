/** summarize returns the count, mean, median, 90th and 95th percentiles, min and max of `samples` (ms), rounded to 0.01 ms. */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (x) => Math.round(x * 100) / 100;
  return {
    n: sorted.length,
    mean: round(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    median: round(sorted.length % 2 ? pick(0.5) : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2),
    p90: round(pick(0.9)),
    p95: round(pick(0.95)),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
  };
}

/** ratio returns a / b rounded to two decimals. */
export function ratio(a, b) {
  return Math.round((a / b) * 100) / 100;
}

/** msText renders a time in ms for a sentence: whole ms from 10 ms up, one decimal below. */
export function msText(x) {
  return `${x >= 10 ? Math.round(x) : x.toFixed(1)} ms`;
}
