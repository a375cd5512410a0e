import { InvalidArgumentError, requireInteger } from '@onerun/core';
import type { Optimizer } from '@tensorflow/tfjs-core';
import { Callback } from '@tensorflow/tfjs-layers';
import { assertLearningRateSettable, setOptimizerLearningRate } from './learning-rate.js';
import type { Schedule, ScheduleClock } from './schedule.js';

/** Options of {@link scheduleCallback}. */
export interface ScheduleCallbackOptions {
  /** The schedule to follow. */
  readonly schedule: Schedule;
  /**
   * The optimizer to drive. Default: the model's own (`model.optimizer`, taken when `fit`
   * begins); a custom loop must pass it.
   */
  readonly optimizer?: Optimizer;
  /**
   * Index of the first update this callback drives (default 0). The one place a resumed run
   * says where it is: the other callbacks read the step from this callback.
   */
  readonly initialStep?: number;
}

/**
 * Drives an optimizer's learning rate from a {@link Schedule}. As a `model.fit` callback it sets
 * the rate in `onBatchBegin` (awaited by tfjs before the batch runs; there is deliberately no
 * `onBatchEnd` hook, which would force a device sync per batch). The step count lives in the
 * callback, so it carries on across several `fit` calls, and it is the {@link ScheduleClock}
 * that `snapshotCallback` and `swaCallback` read (pass this callback as their `schedule`). In a
 * custom loop call {@link ScheduleCallback.beforeUpdate} before each
 * `optimizer.minimize`/`applyGradients`.
 *
 * A finite schedule's end is not clamped: the update after it throws `ScheduleEndedError` (and so
 * stops `fit`).
 */
export class ScheduleCallback extends Callback implements ScheduleClock {
  readonly schedule: Schedule;
  private driven: Optimizer | undefined;
  private nextStep: number;
  private lastRate: number | undefined;

  constructor(options: ScheduleCallbackOptions) {
    super();
    const schedule = options?.schedule;
    if (!schedule || typeof schedule.lrAt !== 'function') {
      throw new InvalidArgumentError(
        'options.schedule',
        schedule,
        'a Schedule (e.g. sseCosine({...}))',
      );
    }
    this.schedule = schedule;
    this.nextStep = checkStep('options.initialStep', options.initialStep ?? 0, schedule);
    // Fail now, not at the first batch, if the optimizer is not one we can drive.
    if (options.optimizer !== undefined) assertLearningRateSettable(options.optimizer);
    this.driven = options.optimizer;
  }

  /** The optimizer driven: the one given, else the model's (known once `fit` has begun). */
  get optimizer(): Optimizer | undefined {
    return this.driven;
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
    if (this.driven === undefined) {
      throw new InvalidArgumentError(
        'scheduleCallback optimizer',
        undefined,
        'options.optimizer in a custom loop (fit passes the model, whose optimizer is used)',
      );
    }
    const lr = this.schedule.lrAt(this.nextStep);
    setOptimizerLearningRate(this.driven, lr);
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
    if (this.driven === undefined && own != null) {
      assertLearningRateSettable(own);
      this.driven = own;
    }
    if (own != null && own !== this.driven) {
      throw new InvalidArgumentError(
        'scheduleCallback optimizer',
        this.driven,
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
 * A {@link ScheduleCallback} for `model.fit({ callbacks: [cb] })` or a custom loop. An
 * `optimizer`, if given, must be the model's own optimizer object (`model.optimizer`).
 *
 * ```ts
 * const lr = scheduleCallback({ schedule: sseCosine({ lr0: 0.1, totalSteps: 600, cycles: 6 }) });
 * await model.fit(xs, ys, { epochs: 12, callbacks: [lr] });
 * ```
 */
export function scheduleCallback(options: ScheduleCallbackOptions): ScheduleCallback {
  return new ScheduleCallback(options);
}
