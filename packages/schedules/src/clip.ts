import { InvalidArgumentError } from '@onerun/core';
import { rate } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/**
 * torchensemble's `lr_clip`: the wrapped schedule's rate clamped into `[lo, hi]` (raised to `lo`
 * if below, lowered to `hi` if above), e.g. so an SSE cycle never reaches 0. Collection points
 * and length are the wrapped schedule's.
 */
export function clip(schedule: Schedule, range: readonly [number, number]): Schedule {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new InvalidArgumentError('clip: range', range, 'a pair [lo, hi] of rates');
  }
  const lo = rate('clip', 'range[0]', range[0]);
  const hi = rate('clip', 'range[1]', range[1]);
  if (lo > hi) throw new InvalidArgumentError('clip: range', range, 'lo ≤ hi');
  const collects = schedule.collectsAt;
  return defineSchedule({
    name: `clip(${schedule.name}, [${lo}, ${hi}])`,
    ...(schedule.totalSteps !== undefined ? { totalSteps: schedule.totalSteps } : {}),
    ...(schedule.cycleSteps !== undefined ? { cycleSteps: schedule.cycleSteps } : {}),
    lrAt: (step) => Math.min(hi, Math.max(lo, schedule.lrAt(step))),
    ...(collects ? { collectsAt: (step: number) => collects(step) } : {}),
  });
}
