import { InvalidArgumentError } from '@onerun/core';
import { peakRate, steps } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** Options of {@link sseCosine}. */
export interface SseCosineOptions {
  /** Rate at the first step of every cycle (α0). */
  readonly lr0: number;
  /** Total number of updates T. */
  readonly totalSteps: number;
  /** Number of cycles M requested; each cycle is ⌈T/M⌉ steps long. */
  readonly cycles: number;
}

/** An SSE schedule, with the cycle count the formula actually yields. */
export interface SseCosineSchedule extends Schedule {
  readonly totalSteps: number;
  readonly cycleSteps: number;
  /**
   * Cycles that start within T steps: ⌈T / ⌈T/M⌉⌉. This is M when M divides T, and can be fewer
   * when it does not (T = 9, M = 4 → cycles of 3 → 3 cycles); the last cycle may be partial.
   */
  readonly cycleCount: number;
}

/**
 * Snapshot Ensembles' cyclic cosine schedule (Huang et al. 2017), per step:
 * `α(i) = α0/2 · (cos(π · mod(i−1, ⌈T/M⌉) / ⌈T/M⌉) + 1)` with `i = step + 1`.
 * Collects after the last step of every cycle and after the final step (which closes a partial
 * last cycle when M does not divide T). Finite: steps ≥ T throw `ScheduleEndedError`.
 */
export function sseCosine(options: SseCosineOptions): SseCosineSchedule {
  const b = 'sseCosine';
  const lr0 = peakRate(b, 'lr0', options.lr0);
  const totalSteps = steps(b, 'totalSteps', options.totalSteps);
  const cycles = steps(b, 'cycles', options.cycles);
  if (cycles > totalSteps) {
    throw new InvalidArgumentError(
      `${b}: cycles`,
      cycles,
      `at most totalSteps = ${totalSteps} (every cycle needs at least one step)`,
    );
  }
  const cycleSteps = Math.ceil(totalSteps / cycles);
  const schedule = defineSchedule({
    name: `sseCosine(lr0=${lr0}, T=${totalSteps}, M=${cycles})`,
    totalSteps,
    cycleSteps,
    lrAt: (step) => (lr0 / 2) * (Math.cos((Math.PI * (step % cycleSteps)) / cycleSteps) + 1),
    collectsAt: (step) => step % cycleSteps === cycleSteps - 1 || step === totalSteps - 1,
  });
  return Object.freeze({
    ...schedule,
    totalSteps,
    cycleSteps,
    cycleCount: Math.ceil(totalSteps / cycleSteps),
  });
}
