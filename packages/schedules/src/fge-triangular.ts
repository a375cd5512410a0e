import { InvalidArgumentError } from '@onerun/core';
import { ordered, peakRate, rate, steps } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** Options of {@link fgeTriangular}. */
export interface FgeTriangularOptions {
  /** The large rate α1, at the start and end of each cycle. */
  readonly lr1: number;
  /** The small rate α2 (≤ α1), reached at mid-cycle where a model is collected. */
  readonly lr2: number;
  /** Cycle length c in updates; must be even so that t = 1/2 falls on a step. */
  readonly cycleSteps: number;
}

/**
 * Fast Geometric Ensembling's piecewise-linear cycle (Garipov et al. 2018). With `i = step + 1`
 * and `t = (mod(i−1, c) + 1)/c`: `α = (1−2t)·α1 + 2t·α2` for `t ≤ 1/2`, else
 * `(2−2t)·α2 + (2t−1)·α1`. Collects at `t = 1/2` (the rate minimum α2), once per cycle.
 * Runs forever. `lr2 > lr1` is refused (the method goes large → small → large); `lr1 = lr2` is
 * allowed and gives a constant rate with a collection every c steps.
 */
export function fgeTriangular(options: FgeTriangularOptions): Schedule {
  const b = 'fgeTriangular';
  const lr1 = peakRate(b, 'lr1', options.lr1);
  const lr2 = rate(b, 'lr2', options.lr2);
  ordered(b, 'lr2', lr2, 'lr1', lr1);
  const c = steps(b, 'cycleSteps', options.cycleSteps, 2);
  if (c % 2 !== 0) {
    throw new InvalidArgumentError(
      `${b}: cycleSteps`,
      c,
      'an even integer ≥ 2 (the collection point t = 1/2 must fall on a step)',
    );
  }
  return defineSchedule({
    name: `fgeTriangular(lr1=${lr1}, lr2=${lr2}, c=${c})`,
    cycleSteps: c,
    lrAt: (step) => {
      const t = ((step % c) + 1) / c;
      return t <= 0.5 ? (1 - 2 * t) * lr1 + 2 * t * lr2 : (2 - 2 * t) * lr2 + (2 * t - 1) * lr1;
    },
    collectsAt: (step) => step % c === c / 2 - 1,
  });
}
