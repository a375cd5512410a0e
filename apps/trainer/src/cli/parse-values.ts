import { InvalidArgumentError } from 'commander';

/** Upper bounds of the numeric options: beyond them a run would not end in any useful time. */
export const MAX = {
  epochs: 100_000,
  batchSize: 1 << 20,
  cycles: 10_000,
  points: 1_001,
  examples: 10_000_000,
  seed: 2 ** 32 - 1,
  updates: 100_000_000,
  budgetMultiple: 100,
  jobs: 256,
  threads: 1024,
  swagRank: 1_000,
  swagSamples: 10_000,
} as const;

/** A number in (0, max]. */
export function positiveUpTo(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) {
      throw new InvalidArgumentError(`Expected a number in (0, ${max}].`);
    }
    return n;
  };
}

/** An integer in [min, max]. */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected an integer in [${min}, ${max}].`);
    }
    return n;
  };
}

/** A number > 0. */
export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a number > 0.');
  return n;
}

/** `--val-split`: a fraction in [0, 0.5]. */
export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 0.5) {
    throw new InvalidArgumentError('Expected a number in [0, 0.5].');
  }
  return n;
}

/** `--swa-every`: a number of updates, or `epoch`. */
export function swaEvery(value: string): number | 'epoch' {
  if (value === 'epoch') return 'epoch';
  return integer(1, MAX.updates)(value);
}

/** A comma-separated list, each item parsed by `item`. */
export function listOf<T>(item: (value: string) => T) {
  return (value: string): T[] => value.split(',').map((v) => item(v.trim()));
}

/** `--swa-start` / `--fge-start`: an epoch (integer ≥ 1) or a fraction in (0, 1). */
export function epochOrFraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1) && !(Number.isInteger(n) && n >= 1)) {
    throw new InvalidArgumentError('Expected an epoch (integer ≥ 1) or a fraction in (0, 1).');
  }
  return n;
}

/** `--image-size`: `HxW` (or `N` for N×N), each side 1…4096. */
export function imageSize(value: string): [number, number] {
  const m = /^(\d+)(?:[x×](\d+))?$/i.exec(value.trim());
  const h = m ? Number(m[1]) : Number.NaN;
  const w = m ? Number(m[2] ?? m[1]) : Number.NaN;
  if (!(h >= 1 && h <= 4096 && w >= 1 && w <= 4096)) {
    throw new InvalidArgumentError('Expected HxW (e.g. 32x32) or N, sides 1…4096.');
  }
  return [h, w];
}

/** `--test-split`: a fraction in [0.01, 0.9]. */
export function testFraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.01 || n > 0.9) {
    throw new InvalidArgumentError('Expected a number in [0.01, 0.9].');
  }
  return n;
}
