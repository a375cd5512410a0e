import {
  batchNormLayers,
  type DataSource,
  InvalidArgumentError,
  requireInteger,
} from '@onerun/core';
import { type ScheduleClock, updatesDone } from '@onerun/schedules';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import type { Averager } from './averager.js';
import { type ForwardFn, type RecomputeBatchNormResult, recomputeBatchNorm } from './batch-norm.js';
import { MissingBatchNormDataError } from './errors.js';

/** When averaging may begin: after this many completed updates, or completed epochs. */
export type SwaStart = { step: number } | { epoch: number };

/**
 * How often to fold the model in once averaging has begun: every `steps` updates, every
 * `epochs` epochs, or `'cycle'` at each of the schedule's collection points (`collectsAt`).
 */
export type SwaEvery = { steps: number } | { epochs: number } | 'cycle';

/** Options of {@link swaCallback}. */
export interface SwaCallbackOptions {
  /**
   * What to feed: a `WeightAverager` (its `mode` decides SWA, EMA or a custom rule), a `Swag`
   * (its mean w̄ is what gets written at the end), or any other {@link Averager}.
   */
  averager: Averager;
  /**
   * Averaging begins once this many updates (`{ step: S }`) or epochs (`{ epoch: E }`) have
   * completed: the first model folded in is the one after the S-th update / E-th epoch (or the
   * first one due, for 0). `{ epoch: 15 }` with `every: { epochs: 1 }` averages the weights at
   * the end of epochs 15, 16, … (1-based), as the official code's `swa_start = 15`.
   */
  start: SwaStart;
  /**
   * Default: `'cycle'` when `schedule` defines collection points, else `{ epochs: 1 }`. Counted
   * from `start` when both are in the same unit (as the official SWA code does), else from 0.
   */
  every?: SwaEvery;
  /**
   * The `scheduleCallback` driving the rate (or any `{ schedule, step }`): the step is read from
   * it and `'cycle'` uses its schedule's collection points. Without it the step is the model
   * optimizer's update count (`optimizer.iterations`). Epochs are those `fit` reports (pass
   * `initialEpoch` to a resumed `fit`).
   */
  schedule?: ScheduleClock;
  /**
   * At the end of each `fit`, write the average into the model and recompute its batch-norm
   * statistics from `bnData` (default true). With several `fit` calls, set it to false and call
   * {@link SwaCallback.finalize} after the last.
   */
  writeAverage?: boolean;
  /** Data for `recomputeBatchNorm` after writing the average (usually the training inputs). */
  bnData?: DataSource;
  /** Batch size of the recompute when `bnData` is a tensor (default 32). */
  bnBatchSize?: number;
  /** Custom forward pass for the recompute (see `recomputeBatchNorm`). */
  forward?: ForwardFn;
  /**
   * Opt-out: write averaged weights into a model with batch norm without recomputing its
   * statistics (they stay those of the last iterate). Otherwise that is a
   * `MissingBatchNormDataError`, thrown when training begins.
   */
  allowStaleBatchNorm?: boolean;
}

/** What {@link SwaCallback.finalize} did. */
export interface SwaFinalizeResult {
  /** Whether the average was written (false when nothing had been averaged yet). */
  written: boolean;
  /** Number of models in the average. */
  count: number;
  /** The batch-norm recompute, when one ran. */
  batchNorm?: RecomputeBatchNormResult;
}

/**
 * A `model.fit` callback that averages the weights the optimizer visits (SWA) and, at the end of
 * training, writes the average into the model and recomputes its batch-norm statistics. It keeps
 * no step count of its own (see `schedule`); the learning rate is the job of a
 * `scheduleCallback` next to it.
 */
export class SwaCallback extends Callback {
  readonly averager: Averager;
  private readonly options: SwaCallbackOptions;
  private readonly every: SwaEvery;
  /** Epochs completed, as `fit` reports them. */
  private epochs = 0;
  /** The result of the last `finalize` (also run by `onTrainEnd` when `writeAverage`). */
  lastFinalize: SwaFinalizeResult | null = null;

  constructor(options: SwaCallbackOptions) {
    super();
    const averager = options?.averager as Partial<Averager> | undefined;
    if (typeof averager?.update !== 'function' || typeof averager.copyTo !== 'function') {
      throw new InvalidArgumentError(
        'options.averager',
        averager,
        'an Averager (a WeightAverager or a Swag)',
      );
    }
    this.averager = options.averager;
    checkStart(options.start);
    const clock = options.schedule as Partial<ScheduleClock> | undefined;
    if (clock !== undefined && (typeof clock?.step !== 'number' || !clock.schedule)) {
      throw new InvalidArgumentError(
        'options.schedule',
        clock,
        'the scheduleCallback driving the rate (or any { schedule, step })',
      );
    }
    this.every =
      options.every ??
      (typeof options.schedule?.schedule.collectsAt === 'function' ? 'cycle' : { epochs: 1 });
    checkEvery(this.every, options.schedule);
    this.options = options;
  }

  override async onTrainBegin(): Promise<void> {
    if (this.options.writeAverage ?? true) assertCanRecompute(this.model, this.options);
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epochs = epoch;
  }

  override async onBatchEnd(): Promise<void> {
    const done = updatesDone(this.model, this.options.schedule);
    if (this.every === 'cycle') {
      if (this.started(done) && this.options.schedule?.schedule.collectsAt?.(done - 1)) {
        await this.averager.update(this.model);
      }
    } else if ('steps' in this.every && this.isDue(done, this.every.steps, 'step')) {
      await this.averager.update(this.model);
    }
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    this.epochs = epoch + 1;
    const every = this.every;
    if (every !== 'cycle' && 'epochs' in every && this.isDue(this.epochs, every.epochs, 'epoch')) {
      await this.averager.update(this.model);
    }
  }

  override async onTrainEnd(): Promise<void> {
    if (this.options.writeAverage ?? true) await this.finalize(this.model);
  }

  /**
   * Writes the average into `model` and, given `bnData`, recomputes its batch-norm statistics.
   * Throws `MissingBatchNormDataError` for a batch-norm model without `bnData` unless
   * `allowStaleBatchNorm`. Leaves the model untouched when nothing has been averaged yet.
   */
  async finalize(model: LayersModel = this.model): Promise<SwaFinalizeResult> {
    if (!model || !Array.isArray((model as { layers?: unknown }).layers)) {
      throw new InvalidArgumentError('model', model, 'a LayersModel (or call finalize after fit)');
    }
    assertCanRecompute(model, this.options);
    const count = this.averager.count;
    if (count === 0) {
      this.lastFinalize = { written: false, count };
      return this.lastFinalize;
    }
    this.averager.copyTo(model);
    const result: SwaFinalizeResult = { written: true, count };
    if (this.options.bnData !== undefined && batchNormLayers(model).length > 0) {
      result.batchNorm = await recomputeBatchNorm(model, this.options.bnData, {
        ...(this.options.bnBatchSize === undefined ? {} : { batchSize: this.options.bnBatchSize }),
        ...(this.options.forward === undefined ? {} : { forward: this.options.forward }),
      });
    }
    this.lastFinalize = result;
    return result;
  }

  /** True once averaging may begin: `start` updates or epochs completed. */
  private started(stepsDone: number): boolean {
    const start = this.options.start;
    return 'step' in start ? stepsDone >= start.step : this.epochs >= start.epoch;
  }

  private isDue(done: number, period: number, unit: 'step' | 'epoch'): boolean {
    if (!this.started(unit === 'step' ? done : updatesDone(this.model, this.options.schedule)))
      return false;
    const start = this.options.start;
    const origin = unit in start ? ((start as Record<string, number>)[unit] ?? 0) : 0;
    return (done - origin) % period === 0;
  }
}

function checkStart(start: unknown): void {
  const s = start as Record<string, unknown> | undefined;
  if (s && typeof s === 'object' && 'step' in s && !('epoch' in s)) {
    requireInteger('options.start.step', s.step, 0);
  } else if (s && typeof s === 'object' && 'epoch' in s && !('step' in s)) {
    requireInteger('options.start.epoch', s.epoch, 0);
  } else {
    throw new InvalidArgumentError('options.start', start, '{ step: n } or { epoch: n }');
  }
}

function checkEvery(every: unknown, clock: ScheduleClock | undefined): void {
  if (every === 'cycle') {
    if (typeof clock?.schedule.collectsAt !== 'function') {
      throw new InvalidArgumentError(
        'options.every',
        every,
        "{ steps } or { epochs } — 'cycle' needs options.schedule: a scheduleCallback whose schedule has collection points (collectsAt)",
      );
    }
    return;
  }
  const e = every as Record<string, unknown> | undefined;
  if (e && typeof e === 'object' && 'steps' in e) requireInteger('options.every.steps', e.steps, 1);
  else if (e && typeof e === 'object' && 'epochs' in e) {
    requireInteger('options.every.epochs', e.epochs, 1);
  } else {
    throw new InvalidArgumentError(
      'options.every',
      every,
      "{ steps: n }, { epochs: n } or 'cycle'",
    );
  }
}

function assertCanRecompute(model: LayersModel, options: SwaCallbackOptions): void {
  if (options.bnData !== undefined || options.allowStaleBatchNorm === true) return;
  const layers = batchNormLayers(model);
  if (layers.length > 0) throw new MissingBatchNormDataError(layers.map((l) => l.name));
}

/**
 * A {@link SwaCallback} for `model.fit({ callbacks: [cb] })`:
 *
 * ```ts
 * const averager = new WeightAverager({ mode: 'swa' });
 * const lr = scheduleCallback({ schedule: swaDecay({ lrInit: 0.1, swaLr: 0.05, swaStart: 150, totalSteps: 200 }) });
 * await model.fit(xs, ys, {
 *   epochs: 20,
 *   callbacks: [lr, swaCallback({ averager, schedule: lr, start: { epoch: 15 }, bnData: xs })],
 * });
 * // model now holds the SWA weights with recomputed batch-norm statistics
 * ```
 */
export function swaCallback(options: SwaCallbackOptions): SwaCallback {
  return new SwaCallback(options);
}
