import type { VerdictRule } from './plan.js';
import { type PairedStats, signTestP, tInterval } from './stats.js';

/** A claim's verdict and the interval it was decided on. */
export interface Verdict {
  verdict: string;
  /** The interval the rule used (its level), when it used one. */
  interval?: { level: number; bounds: [number, number] };
  /** The sign test's one-sided p-value, when the rule is `sign`. */
  p?: number;
}

const fmt = (x: number) => String(Number(x.toPrecision(6)));

/**
 * Decides a claim from its paired differences `ds` (d = method − comparator; lower is better for
 * the method), as pre-registered in its rule:
 * - `superiority`: holds if the t-interval (default 95%) lies below 0 (and, with `everySeed`,
 *   every d < 0); does not hold if it lies above −margin; otherwise not resolvable.
 * - `equivalence` (two one-sided tests): the interval (default 90%) below −margin: holds; inside
 *   (−margin, +margin): does not hold, equivalent; otherwise not resolvable.
 * - `sign`: holds if the exact one-sided sign test of d < 0 has p ≤ alpha; does not hold if
 *   the test of d > 0 does; otherwise not resolvable.
 * With no differences the claim is `not run yet`; with one, `in progress (n = 1)`.
 */
export function decide(ds: readonly number[], stats: PairedStats, rule: VerdictRule): Verdict {
  if (stats.n < 2) return { verdict: stats.n === 0 ? 'not run yet' : 'in progress (n = 1)' };
  if (rule.test === 'sign') {
    const alpha = rule.alpha ?? 0.05;
    const nonZero = stats.negative + stats.positive;
    const p = signTestP(stats.negative, nonZero);
    if (p <= alpha) return { verdict: 'holds', p };
    if (signTestP(stats.positive, nonZero) <= alpha) return { verdict: 'does not hold', p };
    return { verdict: 'not resolvable at this scale', p };
  }
  if (rule.test === 'equivalence') {
    const level = rule.level ?? 0.9;
    const [lo, hi] = tInterval(ds, level);
    const interval = { level, bounds: [lo, hi] as [number, number] };
    if (hi < -rule.margin) return { verdict: 'holds', interval };
    if (lo > -rule.margin && hi < rule.margin) {
      const gain = stats.ci95[1] < 0 ? ' (a real gain, smaller than δ)' : '';
      return { verdict: `does not hold: equivalent within ±${fmt(rule.margin)}${gain}`, interval };
    }
    return { verdict: 'not resolvable at this scale', interval };
  }
  const level = rule.level ?? 0.95;
  const [lo, hi] = tInterval(ds, level);
  const interval = { level, bounds: [lo, hi] as [number, number] };
  if (hi < 0 && (!rule.everySeed || stats.negative === stats.n))
    return { verdict: 'holds', interval };
  if (lo > -rule.margin) return { verdict: 'does not hold', interval };
  return { verdict: 'not resolvable at this scale', interval };
}
