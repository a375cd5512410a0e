import {
  batchNormLayers,
  type DataSource,
  InvalidArgumentError,
  requireInteger,
} from '@onerun/core';
import { type Schedule, ScheduleCallback } from '@onerun/schedules';
import type { Optimizer } from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import { WeightAverager } from './averager.js';
import { type ForwardFn, type RecomputeBatchNormResult, recomputeBatchNorm } from './batch-norm.js';
import { MissingBatchNormDataError } from './errors.js';
import { Swag } from './swag.js';

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
   * What to feed: a `WeightAverager` (its `mode` decides SWA, EMA or a custom rule) or a `Swag`
   * (which collects the same iterates; its mean w̄ is what gets written at the end).
   */
  averager: WeightAverager | Swag;
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
  /** Drives the optimizer's learning rate at every update (e.g. `swaDecay`, `swaCyclic`). */
  schedule?: Schedule;
  /** Optimizer the schedule drives (default: `model.optimizer`, which it must be). */
  optimizer?: Optimizer;
  /** Updates already done before this callback's first `fit` (to resume; default 0). */
  initialStep?: number;
  /** Epochs already done before this callback's first `fit` (to resume; default 0). */
  initialEpoch?: number;
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
 * A `model.fit` callback that averages the weights the optimizer visits (SWA), optionally drives
 * the learning rate with an SWA schedule, and at the end of training writes the average into the
 * model and recomputes its batch-norm statistics. Step counts carry on across `fit` calls.
 */
export class SwaCallback extends Callback {
  readonly averager: WeightAverager | Swag;
  private readonly options: SwaCallbackOptions;
  private readonly every: SwaEvery;
  private driver: ScheduleCallback | null = null;
  private steps: number;
  private epochs: number;
  /** The result of the last `finalize` (also run by `onTrainEnd` when `writeAverage`). */
  lastFinalize: SwaFinalizeResult | null = null;

  constructor(options: SwaCallbackOptions) {
    super();
    const averager = options?.averager;
    if (!(averager instanceof WeightAverager) && !(averager instanceof Swag)) {
      throw new InvalidArgumentError('options.averager', averager, 'a WeightAverager or a Swag');
    }
    this.averager = options.averager;
    checkStart(options.start);
    if (options.schedule !== undefined && typeof options.schedule?.lrAt !== 'function') {
      throw new InvalidArgumentError('options.schedule', options.schedule, 'a Schedule');
    }
    this.every =
      options.every ??
      (typeof options.schedule?.collectsAt === 'function' ? 'cycle' : { epochs: 1 });
    checkEvery(this.every, options.schedule);
    this.steps = requireInteger('options.initialStep', options.initialStep ?? 0, 0);
    this.epochs = requireInteger('options.initialEpoch', options.initialEpoch ?? 0, 0);
    this.options = options;
  }

  /** Updates completed so far (across `fit` calls, from `initialStep`). */
  get step(): number {
    return this.steps;
  }

  /** Epochs completed so far (across `fit` calls, from `initialEpoch`). */
  get epoch(): number {
    return this.epochs;
  }

  override async onTrainBegin(): Promise<void> {
    const model = this.model;
    const wantsAverage = this.options.writeAverage ?? true;
    if (wantsAverage) assertCanRecompute(model, this.options);
    const schedule = this.options.schedule;
    if (schedule) {
      if (this.driver === null) {
        const optimizer = this.options.optimizer ?? model.optimizer;
        this.driver = new ScheduleCallback(optimizer, schedule, { initialStep: this.steps });
      }
      this.driver.setModel(model);
      await this.driver.onTrainBegin();
    }
  }

  override async onBatchBegin(): Promise<void> {
    this.driver?.beforeUpdate();
  }

  override async onBatchEnd(): Promise<void> {
    const s = this.steps; // index of the update that just ran
    this.steps = s + 1;
    if (this.every === 'cycle') {
      if (this.started(this.steps, 'step') && this.options.schedule?.collectsAt?.(s)) {
        await this.averager.update(this.model);
      }
    } else if ('steps' in this.every && this.isDue(this.steps, this.every.steps, 'step')) {
      await this.averager.update(this.model);
    }
  }

  override async onEpochEnd(): Promise<void> {
    this.epochs += 1;
    if (
      this.every !== 'cycle' &&
      'epochs' in this.every &&
      this.isDue(this.epochs, this.every.epochs, 'epoch')
    ) {
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
    if (this.averager instanceof Swag) this.averager.copyMeanTo(model);
    else this.averager.copyTo(model);
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

  /** True once `done` (completed updates or epochs, per `unit`) has reached `start`. */
  private started(done: number, unit: 'step' | 'epoch'): boolean {
    const start = this.options.start;
    if ('step' in start) return unit === 'step' ? done >= start.step : this.steps >= start.step;
    return unit === 'epoch' ? done >= start.epoch : this.epochs >= start.epoch;
  }

  private isDue(done: number, period: number, unit: 'step' | 'epoch'): boolean {
    if (!this.started(done, unit)) return false;
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

function checkEvery(every: unknown, schedule: Schedule | undefined): void {
  if (every === 'cycle') {
    if (typeof schedule?.collectsAt !== 'function') {
      throw new InvalidArgumentError(
        'options.every',
        every,
        "{ steps } or { epochs } — 'cycle' needs a schedule with collection points (collectsAt)",
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
 * await model.fit(xs, ys, {
 *   epochs: 20,
 *   callbacks: [swaCallback({ averager, start: { epoch: 15 }, bnData: xs })],
 * });
 * // model now holds the SWA weights with recomputed batch-norm statistics
 * ```
 */
export function swaCallback(options: SwaCallbackOptions): SwaCallback {
  return new SwaCallback(options);
}
