import { InvalidArgumentError, requireInteger } from '@onerun/core';
import type { Schedule } from './schedule.js';

/** One point of a sampled schedule. */
export interface SchedulePoint {
  readonly step: number;
  readonly lr: number;
  /** True where the schedule collects a model after this update. */
  readonly collect: boolean;
}

/** Options of {@link sampleSchedule}. */
export interface SampleOptions {
  /** Steps to cover, `0 … steps−1`. Default: the schedule's `totalSteps` (required if infinite). */
  readonly steps?: number;
  /**
   * Evenly spaced points to take (≥ 2, first and last step included). Default: every step.
   * Every collection step inside the range is added as well, so markers are never lost.
   */
  readonly points?: number;
}

/** Turns a schedule into `{ step, lr, collect }` points for a chart, sorted by step. */
export function sampleSchedule(schedule: Schedule, options: SampleOptions = {}): SchedulePoint[] {
  if (!schedule || typeof schedule.lrAt !== 'function') {
    throw new InvalidArgumentError('schedule', schedule, 'a Schedule');
  }
  const steps = resolveSteps(schedule, options.steps);
  const points = options.points === undefined ? steps : requireInteger('points', options.points, 2);
  const chosen = new Set<number>();
  if (points >= steps) {
    for (let s = 0; s < steps; s++) chosen.add(s);
  } else {
    for (let k = 0; k < points; k++) chosen.add(Math.round((k * (steps - 1)) / (points - 1)));
  }
  const collectsAt = schedule.collectsAt?.bind(schedule);
  if (collectsAt && points < steps) {
    for (let s = 0; s < steps; s++) if (collectsAt(s)) chosen.add(s);
  }
  return [...chosen]
    .sort((a, b) => a - b)
    .map((step) => ({ step, lr: schedule.lrAt(step), collect: collectsAt?.(step) ?? false }));
}

/** The number of steps to cover: `steps` if given (checked against a finite schedule's end). */
function resolveSteps(schedule: Schedule, steps: number | undefined): number {
  if (steps === undefined) {
    if (schedule.totalSteps === undefined) {
      throw new InvalidArgumentError(
        'steps',
        steps,
        `a number of steps, since ${schedule.name} runs forever`,
      );
    }
    return schedule.totalSteps;
  }
  const n = requireInteger('steps', steps, 1);
  if (schedule.totalSteps !== undefined && n > schedule.totalSteps) {
    throw new InvalidArgumentError(
      'steps',
      steps,
      `at most ${schedule.totalSteps}, the length of ${schedule.name}`,
    );
  }
  return n;
}
