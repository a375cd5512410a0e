import { InvalidArgumentError, requireInRange, requireInteger, seededRandom } from '@onerun/core';

/** Resamples of the paired bootstrap unless told otherwise. */
export const DEFAULT_RESAMPLES = 2000;

/** Options of the paired bootstrap. */
export interface BootstrapOptions {
  /** Resamples of the examples, drawn with replacement (default 2,000). */
  resamples?: number;
  /** Seed of the resampling, so a report repeats exactly (default 0). */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

/** A difference of two means over the same examples, with its bootstrap interval. */
export interface DifferenceInterval {
  /** Mean of `a − b` over all examples (the observed difference). */
  difference: number;
  /** Percentile interval of the resampled mean difference. */
  lower: number;
  upper: number;
  level: number;
  resamples: number;
}

/** Linear interpolation between order statistics (the usual "type 7" quantile). */
function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (at - below);
}

/**
 * Paired percentile bootstrap over examples for several per-example differences at once: every
 * resample draws `n` example indices with replacement (seeded) and takes the mean of each column
 * over them, so all columns see the same resamples (the pairing the comparison needs). Returns,
 * per column, the observed mean and the central `level` interval of the resampled means.
 */
export function bootstrapMeans(
  columns: readonly ArrayLike<number>[],
  options: BootstrapOptions = {},
): DifferenceInterval[] {
  const resamples = requireInteger('resamples', options.resamples ?? DEFAULT_RESAMPLES, 1);
  const level = requireInRange('level', options.level ?? 0.95, 0, 1);
  if (level === 0 || level === 1) {
    throw new InvalidArgumentError('level', level, 'a coverage strictly between 0 and 1');
  }
  const n = columns[0]?.length ?? 0;
  if (n < 1) throw new InvalidArgumentError('columns', n, 'at least one example');
  for (const [i, c] of columns.entries()) {
    if (c.length !== n)
      throw new InvalidArgumentError(`columns[${i}].length`, c.length, `${n} (one per example)`);
  }
  const random = seededRandom(options.seed ?? 0);
  const means = columns.map(() => new Float64Array(resamples));
  const sums = new Float64Array(columns.length);
  for (let r = 0; r < resamples; r++) {
    sums.fill(0);
    for (let k = 0; k < n; k++) {
      const i = Math.floor(random() * n);
      for (let c = 0; c < columns.length; c++) sums[c]! += columns[c]![i]!;
    }
    for (let c = 0; c < columns.length; c++) means[c]![r] = sums[c]! / n;
  }
  return columns.map((column, c) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += column[i]!;
    const sorted = means[c]!.sort();
    return {
      difference: sum / n,
      lower: quantile(sorted, (1 - level) / 2),
      upper: quantile(sorted, 1 - (1 - level) / 2),
      level,
      resamples,
    };
  });
}

/** Per-example `a − b` (same examples, same order). */
export function differences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) {
    throw new InvalidArgumentError('b.length', b.length, `${a.length}, the length of a (paired)`);
  }
  return Float64Array.from({ length: a.length }, (_, i) => a[i]! - b[i]!);
}

/**
 * The paired bootstrap interval of `mean(a) − mean(b)`, where `a[i]` and `b[i]` are two models'
 * scores on the same example `i` (1/0 correct, or the example's NLL).
 */
export function pairedBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: BootstrapOptions = {},
): DifferenceInterval {
  return bootstrapMeans([differences(a, b)], options)[0]!;
}

/** What an interval says about a difference: a winner only where it excludes 0. */
export type Verdict = 'better' | 'worse' | 'within noise';

/**
 * `better` when the whole interval lies on the good side of 0 (`higherIsBetter`: above it, as
 * for accuracy; otherwise below it, as for NLL), `worse` on the other side, else `within noise`.
 */
export function verdictOf(interval: DifferenceInterval, higherIsBetter: boolean): Verdict {
  if (interval.lower > 0) return higherIsBetter ? 'better' : 'worse';
  if (interval.upper < 0) return higherIsBetter ? 'worse' : 'better';
  return 'within noise';
}
