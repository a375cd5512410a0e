// Paired per-seed statistics and the pre-registered verdict rules of docs/RESULTS.md.

/** Two-sided t critical values: 95% (for the reported interval) and 90% (for TOST at 5%), by df. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];
const T90 = [
  6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761,
  1.753, 1.746, 1.74, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701,
  1.699, 1.697,
];

export function tCritical(df, level = 0.95) {
  const table = level === 0.95 ? T95 : level === 0.9 ? T90 : undefined;
  if (!table) throw new Error(`no t table for level ${level}`);
  if (df < 1) return Number.NaN;
  return table[Math.min(df, table.length) - 1];
}

export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sd = (xs) =>
  xs.length < 2
    ? Number.NaN
    : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

/** Half-width of the t-interval of the mean of `xs` (NaN for fewer than two values). */
export function halfWidth(xs, level = 0.95) {
  const n = xs.length;
  return n > 1 ? (tCritical(n - 1, level) * sd(xs)) / Math.sqrt(n) : Number.NaN;
}

/** Mean, SD, n, t-intervals (95% and 90%) and the count of negative differences. */
export function paired(ds) {
  const n = ds.length;
  const m = mean(ds);
  const s = sd(ds);
  const half = (level) => halfWidth(ds, level);
  return {
    n,
    mean: m,
    sd: s,
    ci95: [m - half(0.95), m + half(0.95)],
    ci90: [m - half(0.9), m + half(0.9)],
    negative: ds.filter((d) => d < 0).length,
  };
}

/**
 * The verdict of a claim on `d = method − comparator` (lower is better for the method), with
 * margin `delta` (in the units of d): see "Claims and their primary metrics" in docs/RESULTS.md.
 */
export function verdict(stats, test, delta) {
  if (stats.n < 2) return stats.n === 0 ? 'not run yet' : 'in progress (n = 1)';
  const [lo95, hi95] = stats.ci95;
  if (test === 'equivalence') {
    const [lo90, hi90] = stats.ci90;
    if (hi90 < -delta) return 'holds';
    if (lo90 > -delta && hi90 < delta) return `does not hold: equivalent within ±${delta}`;
    return 'not resolvable at this scale';
  }
  if (hi95 < 0) return 'holds';
  if (lo95 > -delta) return 'does not hold';
  return 'not resolvable at this scale';
}
