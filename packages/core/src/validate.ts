import { InvalidArgumentError } from './errors.js';

/** Returns `value` if it is a finite number, else throws naming `argument`. */
export function requireFinite(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(argument, value, 'a finite number');
  }
  return value;
}

/** A finite number ≥ 0 (learning rates, decays, weights). */
export function requireNonNegative(argument: string, value: unknown): number {
  const n = requireFinite(argument, value);
  if (n < 0) throw new InvalidArgumentError(argument, value, 'a finite number ≥ 0');
  return n;
}

/** A finite number > 0. */
export function requirePositive(argument: string, value: unknown): number {
  const n = requireFinite(argument, value);
  if (n <= 0) throw new InvalidArgumentError(argument, value, 'a finite number > 0');
  return n;
}

/** An integer ≥ `min` (default 0): steps, counts, sizes. */
export function requireInteger(argument: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, value, `an integer ≥ ${min}`);
  }
  return value;
}

/** A number in the closed interval [lo, hi]. */
export function requireInRange(argument: string, value: unknown, lo: number, hi: number): number {
  const n = requireFinite(argument, value);
  if (n < lo || n > hi)
    throw new InvalidArgumentError(argument, value, `a number in [${lo}, ${hi}]`);
  return n;
}
