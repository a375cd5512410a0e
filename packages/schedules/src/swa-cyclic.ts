import { ordered, peakRate, rate, steps } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** Options of {@link swaCyclic}. */
export interface SwaCyclicOptions {
  /** Rate at the first step of each cycle (α1). */
  readonly lr1: number;
  /** Rate at the last step of each cycle (α2 ≤ α1), where the weights are averaged. */
  readonly lr2: number;
  /** Cycle length c in updates (≥ 1). */
  readonly cycleSteps: number;
}

/**
 * SWA's cyclic schedule (Izmailov et al. 2018): with `i = step + 1` and
 * `t = (mod(i−1, c) + 1)/c`, `α = (1 − t)·α1 + t·α2`; collects at `t = 1`, the end of each cycle.
 * Runs forever. `lr2 > lr1` is refused; `lr1 = lr2` gives constant-rate SWA averaging every c steps.
 */
export function swaCyclic(options: SwaCyclicOptions): Schedule {
  const b = 'swaCyclic';
  const lr1 = peakRate(b, 'lr1', options.lr1);
  const lr2 = rate(b, 'lr2', options.lr2);
  ordered(b, 'lr2', lr2, 'lr1', lr1);
  const c = steps(b, 'cycleSteps', options.cycleSteps);
  return defineSchedule({
    name: `swaCyclic(lr1=${lr1}, lr2=${lr2}, c=${c})`,
    cycleSteps: c,
    lrAt: (step) => {
      const t = ((step % c) + 1) / c;
      return (1 - t) * lr1 + t * lr2;
    },
    collectsAt: (step) => (step + 1) % c === 0,
  });
}
