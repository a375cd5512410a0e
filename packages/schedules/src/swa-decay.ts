import { InvalidArgumentError } from '@onerun/core';
import { ordered, peakRate, rate, steps } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** Options of {@link swaDecay}. */
export interface SwaDecayOptions {
  /** Rate of the first half of the pre-SWA phase. */
  readonly lrInit: number;
  /** Constant rate of the SWA phase (≤ lrInit). */
  readonly swaLr: number;
  /** Update at which averaging starts; the decay is laid out relative to it. */
  readonly swaStart: number;
  /** Total number of updates (≥ swaStart). */
  readonly totalSteps: number;
  /**
   * Collect (average) after update `s` when `s + 1 ≥ swaStart` and `(s + 1 − swaStart)` is a
   * multiple of this. Default 1: every step. Pass the number of steps per epoch to average once
   * per epoch as the official code does (its `swa_c_epochs` times steps per epoch in general).
   */
  readonly collectEvery?: number;
}

/**
 * The official SWA schedule (Izmailov et al. 2018, `train.py`), in updates: with
 * `t = step / swaStart` and `r = swaLr / lrInit`, the factor is 1 for `t ≤ 0.5`,
 * `1 − (1 − r)(t − 0.5)/0.4` for `0.5 < t ≤ 0.9`, and `r` after; the rate is `lrInit · factor`.
 * (`t` uses the 0-based step, as the official code uses the 0-based epoch.) Finite: steps
 * ≥ totalSteps throw `ScheduleEndedError`.
 */
export function swaDecay(options: SwaDecayOptions): Schedule {
  const b = 'swaDecay';
  const lrInit = peakRate(b, 'lrInit', options.lrInit);
  const swaLr = rate(b, 'swaLr', options.swaLr);
  ordered(b, 'swaLr', swaLr, 'lrInit', lrInit);
  const swaStart = steps(b, 'swaStart', options.swaStart);
  const totalSteps = steps(b, 'totalSteps', options.totalSteps);
  if (swaStart > totalSteps) {
    throw new InvalidArgumentError(
      `${b}: swaStart`,
      swaStart,
      `at most totalSteps = ${totalSteps}`,
    );
  }
  const every = steps(b, 'collectEvery', options.collectEvery ?? 1);
  const r = swaLr / lrInit;
  return defineSchedule({
    name: `swaDecay(lrInit=${lrInit}, swaLr=${swaLr}, start=${swaStart}, T=${totalSteps})`,
    totalSteps,
    lrAt: (step) => {
      const t = step / swaStart;
      const factor = t <= 0.5 ? 1 : t <= 0.9 ? 1 - ((1 - r) * (t - 0.5)) / 0.4 : r;
      return lrInit * factor;
    },
    collectsAt: (step) => step + 1 >= swaStart && (step + 1 - swaStart) % every === 0,
  });
}
