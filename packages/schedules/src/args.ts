import { InvalidArgumentError, requireInteger, requireNonNegative } from '@onerun/core';

// Argument checks shared by the builders; each names the builder in the message.

/** A learning rate: finite and ≥ 0. */
export function rate(builder: string, argument: string, value: unknown): number {
  return requireNonNegative(`${builder}: ${argument}`, value);
}

/** A learning rate that must be > 0 (the peak of a schedule). */
export function peakRate(builder: string, argument: string, value: unknown): number {
  const n = rate(builder, argument, value);
  if (n === 0)
    throw new InvalidArgumentError(`${builder}: ${argument}`, value, 'a finite number > 0');
  return n;
}

/** A count of steps ≥ `min`. */
export function steps(builder: string, argument: string, value: unknown, min = 1): number {
  return requireInteger(`${builder}: ${argument}`, value, min);
}

/** Requires `high ≥ low` for schedules that go from a large rate to a small one. */
export function ordered(
  builder: string,
  lowName: string,
  low: number,
  highName: string,
  high: number,
): void {
  if (low > high) {
    throw new InvalidArgumentError(
      `${builder}: ${lowName}`,
      low,
      `a rate ≤ ${highName} = ${high} (the method goes from the large rate ${highName} to the small rate ${lowName})`,
    );
  }
}
