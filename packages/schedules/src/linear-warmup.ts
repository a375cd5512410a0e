import { peakRate, rate, steps } from './args.js';
import { constant } from './constant.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';
import { sequence } from './sequence.js';

/** Options of {@link linearWarmup}. */
export interface LinearWarmupOptions {
  /** Updates spent warming up (≥ 1). */
  readonly warmupSteps: number;
  /** What follows the warm-up: a schedule (started at its own step 0) or a constant rate. */
  readonly to: Schedule | number;
  /** Rate the ramp starts from (default 0; the first update already uses a bit more). */
  readonly startLr?: number;
}

/**
 * A linear ramp from `startLr` to the first rate of `to` over `warmupSteps` updates, then `to`,
 * shifted by `warmupSteps` (its collection points move with it). During the ramp,
 * `lr(step) = startLr + (target − startLr) · (step + 1) / warmupSteps`, so the last warm-up update
 * reaches the target and no update runs at exactly `startLr = 0`.
 */
export function linearWarmup(options: LinearWarmupOptions): Schedule {
  const b = 'linearWarmup';
  const warmupSteps = steps(b, 'warmupSteps', options.warmupSteps);
  const startLr = rate(b, 'startLr', options.startLr ?? 0);
  const next =
    typeof options.to === 'number' ? constant(peakRate(b, 'to', options.to)) : options.to;
  const target = next.lrAt(0);
  const ramp = defineSchedule({
    name: `ramp(${startLr} → ${target}, ${warmupSteps})`,
    totalSteps: warmupSteps,
    lrAt: (step) => startLr + ((target - startLr) * (step + 1)) / warmupSteps,
  });
  const s = sequence([{ schedule: ramp, steps: warmupSteps }, { schedule: next }]);
  return Object.freeze({ ...s, name: `linearWarmup(${warmupSteps}, ${startLr} → ${next.name})` });
}
