import { requireInRange, requireInteger } from '@onerun/core';

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * Bernstein coefficients of a Bezier curve with `points` control points (the two ends
 * included) at `t`: `C(n−1, k)·t^k·(1−t)^(n−1−k)` for `k = 0 … n−1`. They sum to 1.
 */
export function bezierCoefficients(t: number, points: number): number[] {
  requireInRange('t', t, 0, 1);
  const n = requireInteger('points', points, 2);
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(binomial(n - 1, k) * t ** k * (1 - t) ** (n - 1 - k));
  return out;
}

/**
 * Coefficients of a polygonal chain through `points` control points placed at
 * `t = k/(n−1)`: `max(0, 1 − |t·(n−1) − k|)`. At most two are non-zero; they sum to 1.
 */
export function polyChainCoefficients(t: number, points: number): number[] {
  requireInRange('t', t, 0, 1);
  const n = requireInteger('points', points, 2);
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(Math.max(0, 1 - Math.abs(t * (n - 1) - k)));
  return out;
}
