/**
 * A learning-rate schedule over optimizer updates. `step` counts updates from 0: `lrAt(0)` is the
 * rate of the first update.
 */
export interface Schedule {
  /** A short label for tables and charts, e.g. `sseCosine(lr0=0.1, T=1000, M=5)`. */
  readonly name: string;
  /** Learning rate for update `step` (0-based). */
  lrAt(step: number): number;
  /**
   * For schedules that define collection points (SSE cycle ends, FGE minima, SWA cycle ends):
   * true for the update after which a model is collected. Absent where the method defines none.
   */
  collectsAt?(step: number): boolean;
  /** Total number of updates, where the schedule is finite; `undefined` where it runs forever. */
  readonly totalSteps?: number;
  /** Length of one cycle in updates, for cyclic schedules. */
  readonly cycleSteps?: number;
}

/**
 * A schedule being followed and how far along it training is: the one step source that
 * collecting callbacks (`snapshotCallback`, `swaCallback`) read, so that none of them keeps its
 * own count. A `ScheduleCallback` is one.
 */
export interface ScheduleClock {
  readonly schedule: Schedule;
  /** Optimizer updates done so far, which is also the index of the next update. */
  readonly step: number;
}
