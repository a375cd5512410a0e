import { InvalidArgumentError, requireInteger } from '@onerun/core';
import type { Optimizer } from '@tensorflow/tfjs-core';
import { Callback } from '@tensorflow/tfjs-layers';
import { assertLearningRateSettable, setOptimizerLearningRate } from './learning-rate.js';
import type { Schedule } from './schedule.js';

/** Options of {@link scheduleCallback}. */
export interface ScheduleCallbackOptions {
  /** Index of the first update this callback drives (default 0); use it to resume a run. */
  readonly initialStep?: number;
}

/**
 * Drives an optimizer's learning rate from a {@link Schedule}. As a `model.fit` callback it sets
 * the rate in `onBatchBegin` (awaited by tfjs before the batch runs; there is deliberately no
 * `onBatchEnd` hook, which would force a device sync per batch). The step count lives in the
 * callback, so it carries on across several `fit` calls. In a custom loop call
 * {@link ScheduleCallback.beforeUpdate} before each `optimizer.minimize`/`applyGradients`.
 *
 * A finite schedule's end is not clamped: the update after it throws `ScheduleEndedError` (and so
 * stops `fit`).
 */
export class ScheduleCallback extends Callback {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  private nextStep: number;
  private lastRate: number | undefined;

  constructor(optimizer: Optimizer, schedule: Schedule, options: ScheduleCallbackOptions = {}) {
    super();
    if (!schedule || typeof schedule.lrAt !== 'function') {
      throw new InvalidArgumentError('schedule', schedule, 'a Schedule (e.g. sseCosine({...}))');
    }
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.nextStep = checkStep('initialStep', options.initialStep ?? 0, schedule);
    // Fail now, not at the first batch, if the optimizer is not one we can drive.
    assertLearningRateSettable(optimizer);
  }

  /** Index of the next update this callback will drive (0-based). */
  get step(): number {
    return this.nextStep;
  }

  /** The rate set for the most recent update; `undefined` before the first. */
  get lastLearningRate(): number | undefined {
    return this.lastRate;
  }

  /**
   * Sets the optimizer's rate for update `step`, advances `step` and returns the rate. Call it
   * once before each update in a custom loop (`fit` calls it for you).
   */
  beforeUpdate(): number {
    const lr = this.schedule.lrAt(this.nextStep);
    setOptimizerLearningRate(this.optimizer, lr);
    this.nextStep++;
    this.lastRate = lr;
    return lr;
  }

  /** Continues from update `step` (e.g. after restoring a checkpoint taken after `step` updates). */
  reset(step: number): void {
    this.nextStep = checkStep('step', step, this.schedule);
    this.lastRate = undefined;
  }

  override async onTrainBegin(): Promise<void> {
    // A `compile({ optimizer: 'adam' })` model owns an optimizer nobody else holds; driving
    // another one would silently change nothing.
    const own = this.model?.optimizer;
    if (own !== undefined && own !== this.optimizer) {
      throw new InvalidArgumentError(
        'scheduleCallback optimizer',
        this.optimizer,
        'the optimizer the model was compiled with (pass model.optimizer, or compile with the optimizer object you give here)',
      );
    }
  }

  override async onBatchBegin(): Promise<void> {
    this.beforeUpdate();
  }
}

function checkStep(argument: string, step: unknown, schedule: Schedule): number {
  const n = requireInteger(argument, step, 0);
  if (schedule.totalSteps !== undefined && n > schedule.totalSteps) {
    throw new InvalidArgumentError(
      argument,
      step,
      `an integer in [0, ${schedule.totalSteps}] for ${schedule.name}`,
    );
  }
  return n;
}

/**
 * A {@link ScheduleCallback} for `model.fit({ callbacks: [cb] })` or a custom loop. `optimizer`
 * must be the model's own optimizer object (`model.optimizer`).
 */
export function scheduleCallback(
  optimizer: Optimizer,
  schedule: Schedule,
  options: ScheduleCallbackOptions = {},
): ScheduleCallback {
  return new ScheduleCallback(optimizer, schedule, options);
}
