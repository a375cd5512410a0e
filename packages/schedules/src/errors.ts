import { OnerunError } from '@onerun/core';

/**
 * A finite schedule was asked for a step at or past its end (`step ≥ totalSteps`). Finite
 * schedules (SSE, `swaDecay`, a bounded `sequence`) define no rate there, so the step is refused
 * rather than clamped: training past the planned budget is almost always a bookkeeping mistake.
 */
export class ScheduleEndedError extends OnerunError {
  readonly schedule: string;
  readonly step: number;
  readonly totalSteps: number;

  constructor(schedule: string, step: number, totalSteps: number) {
    super(
      'SCHEDULE_ENDED',
      `Invalid step for schedule ${schedule}: got ${step}; expected an integer in [0, ${totalSteps - 1}] (the schedule has ${totalSteps} steps).`,
    );
    this.schedule = schedule;
    this.step = step;
    this.totalSteps = totalSteps;
  }
}

/**
 * `setOptimizerLearningRate` does not know how to set the learning rate of this optimizer class.
 * Register a setter for it with `registerLearningRateSetter`.
 */
export class UnsupportedOptimizerError extends OnerunError {
  readonly className: string;

  constructor(className: string, known: readonly string[]) {
    super(
      'UNSUPPORTED_OPTIMIZER',
      `Invalid optimizer: got an optimizer of class ${JSON.stringify(className)}; expected one of ${known.join(', ')} (or register a setter with registerLearningRateSetter).`,
    );
    this.className = className;
  }
}
