import { rate } from './args.js';
import { defineSchedule } from './define.js';
import type { Schedule } from './schedule.js';

/** The same rate at every step, forever. No collection points. */
export function constant(lr: number): Schedule {
  const value = rate('constant', 'lr', lr);
  return defineSchedule({ name: `constant(${value})`, lrAt: () => value });
}
