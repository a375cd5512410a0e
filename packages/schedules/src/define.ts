import { InvalidArgumentError } from '@onerun/core';
import { ScheduleEndedError } from './errors.js';
import type { Schedule } from './schedule.js';

/** What `defineSchedule` needs: the rate (and collection points) for steps already checked. */
export interface ScheduleSpec {
  readonly name: string;
  /** Total number of updates for a finite schedule; omit for one that runs forever. */
  readonly totalSteps?: number;
  readonly cycleSteps?: number;
  /** Called only with an integer `0 ≤ step < totalSteps`. */
  lrAt(step: number): number;
  /** Called only with an integer `0 ≤ step < totalSteps`. */
  collectsAt?(step: number): boolean;
}

/**
 * Wraps a rate function into a {@link Schedule} whose `lrAt`/`collectsAt` refuse bad steps:
 * a non-integer or negative step → `InvalidArgumentError`, a step past a finite schedule's end →
 * {@link ScheduleEndedError}. Every builder in this package is made with it; use it for your own.
 */
export function defineSchedule(spec: ScheduleSpec): Schedule {
  const { name, totalSteps, cycleSteps } = spec;
  const check = (step: number): void => {
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw new InvalidArgumentError(`step of ${name}`, step, 'an integer ≥ 0');
    }
    if (totalSteps !== undefined && step >= totalSteps) {
      throw new ScheduleEndedError(name, step, totalSteps);
    }
  };
  const lrAt = (step: number): number => {
    check(step);
    return spec.lrAt(step);
  };
  const collects = spec.collectsAt;
  const schedule: Schedule = {
    name,
    lrAt,
    ...(totalSteps !== undefined ? { totalSteps } : {}),
    ...(cycleSteps !== undefined ? { cycleSteps } : {}),
    ...(collects
      ? {
          collectsAt: (step: number): boolean => {
            check(step);
            return collects(step);
          },
        }
      : {}),
  };
  return Object.freeze(schedule);
}
