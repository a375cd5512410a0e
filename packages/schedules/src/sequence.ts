import { InvalidArgumentError, requireInteger } from '@onerun/core';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** One part of a {@link sequence}: `schedule` runs from its own step 0 for `steps` updates. */
export interface ScheduleSegment {
  readonly schedule: Schedule;
  /**
   * Updates this segment lasts. Required for every segment but the last; the last one without it
   * runs to its schedule's end (or forever).
   */
  readonly steps?: number;
  /** `false` uses the schedule for its rates only, ignoring its collection points (default true). */
  readonly collect?: boolean;
}

interface Placed {
  readonly schedule: Schedule;
  readonly start: number;
  readonly collects: ((step: number) => boolean) | undefined;
}

/**
 * Runs schedules one after another. Each segment restarts its schedule at its own step 0
 * (PyTorch `SequentialLR` semantics), so a schedule's collection points move with it: a segment
 * starting at update 500 collects at 500 + its own collection steps. A finite schedule must be at
 * least as long as its segment; a longer one is cut. The sequence is finite when its last segment
 * has `steps` or a finite schedule.
 */
export function sequence(segments: readonly ScheduleSegment[]): Schedule {
  if (!Array.isArray(segments) || segments.length === 0) {
    throw new InvalidArgumentError(
      'sequence: segments',
      segments,
      'a non-empty array of { schedule, steps? }',
    );
  }
  const placed: Placed[] = [];
  let start = 0;
  let totalSteps: number | undefined;
  segments.forEach((segment, k) => {
    const last = k === segments.length - 1;
    const schedule = segment?.schedule;
    if (!schedule || typeof schedule.lrAt !== 'function') {
      throw new InvalidArgumentError(`sequence: segments[${k}].schedule`, schedule, 'a Schedule');
    }
    let length: number | undefined;
    if (segment.steps !== undefined || !last) {
      length = requireInteger(`sequence: segments[${k}].steps`, segment.steps, 1);
      if (schedule.totalSteps !== undefined && schedule.totalSteps < length) {
        throw new InvalidArgumentError(
          `sequence: segments[${k}].steps`,
          length,
          `at most ${schedule.totalSteps}, the length of ${schedule.name}`,
        );
      }
    } else {
      length = schedule.totalSteps;
    }
    const collects = segment.collect === false ? undefined : schedule.collectsAt?.bind(schedule);
    placed.push({ schedule, start, collects });
    if (length === undefined) totalSteps = undefined;
    else {
      start += length;
      if (last) totalSteps = start;
    }
  });
  const find = (step: number): Placed => {
    let k = placed.length - 1;
    while (placed[k]!.start > step) k--;
    return placed[k]!;
  };
  const anyCollects = placed.some((p) => p.collects);
  return defineSchedule({
    name: `sequence(${placed.map((p) => `${p.start}: ${p.schedule.name}`).join(', ')})`,
    ...(totalSteps !== undefined ? { totalSteps } : {}),
    lrAt: (step) => {
      const p = find(step);
      return p.schedule.lrAt(step - p.start);
    },
    ...(anyCollects
      ? {
          collectsAt: (step: number) => {
            const p = find(step);
            return p.collects?.(step - p.start) ?? false;
          },
        }
      : {}),
  });
}

/**
 * {@link sequence} with absolute switch points, as PyTorch's `SequentialLR(schedulers,
 * milestones)`: `schedules[k]` starts (at its own step 0) at update `milestones[k−1]`.
 * `milestones` must be strictly increasing integers ≥ 1, one fewer than `schedules`.
 */
export function compose(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  if (!Array.isArray(schedules) || schedules.length === 0) {
    throw new InvalidArgumentError(
      'compose: schedules',
      schedules,
      'a non-empty array of Schedule',
    );
  }
  if (!Array.isArray(milestones) || milestones.length !== schedules.length - 1) {
    throw new InvalidArgumentError(
      'compose: milestones',
      milestones,
      `an array of ${schedules.length - 1} increasing steps (one fewer than schedules)`,
    );
  }
  let previous = 0;
  const segments = schedules.map((schedule, k): ScheduleSegment => {
    if (k === schedules.length - 1) return { schedule };
    const at = requireInteger(`compose: milestones[${k}]`, milestones[k], previous + 1);
    const steps = at - previous;
    previous = at;
    return { schedule, steps };
  });
  return sequence(segments);
}
