import { InvalidArgumentError, requireInteger } from '@onerun/core';
import { getOptimizerLearningRate, type ScheduleClock, updatesDone } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import type { SnapshotEntry, SnapshotMeta, SnapshotStore } from './store.js';

/** Options of `snapshotCallback`: where to save and when (`schedule` or `every`, one of them). */
export interface SnapshotCallbackOptions {
  /** Where the snapshots go. */
  store: SnapshotStore;
  /**
   * Save after every update `s` with `schedule.collectsAt(s)` true (SSE cycle ends, FGE minima,
   * SWA cycle ends). Pass the `scheduleCallback` that drives the rate: the step is read from it.
   */
  schedule?: ScheduleClock;
  /**
   * Save after every n-th update (`{ steps: n }`: updates n−1, 2n−1, … counted by the model's
   * optimizer, `optimizer.iterations`) or at the end of every n-th epoch (`{ epochs: n }`, the
   * epoch index `fit` reports; pass `initialEpoch` to a resumed `fit`).
   */
  every?: { steps: number } | { epochs: number };
  /** Save the optimizer state too, so the run can resume from any snapshot. Default `false`. */
  includeOptimizer?: boolean;
  /** Tags added to every snapshot, e.g. `{ method: 'sse' }`. */
  tags?: Record<string, string>;
  /** Put the numeric `fit` logs at save time (loss, metrics) into `meta.metrics`. Default `true`. */
  recordLogs?: boolean;
}

/** `fit` logs: numbers, or scalars still on the device. */
export type FitLogs = { [key: string]: number | tf.Tensor };

/**
 * Saves snapshots during `model.fit` (or a custom loop) into a `SnapshotStore`.
 *
 * It keeps no step count of its own: it reads the step from its `schedule` (the
 * `scheduleCallback` driving the rate) or else from the model's optimizer (`iterations`), and
 * the epoch from `fit`. Its `onBatchEnd` reads nothing from the device unless it saves (tfjs
 * resolves batch logs only for plain-object callbacks, not for `Callback` subclasses), so
 * batches without a save cost no device sync. A save reads the weights and, with `recordLogs`,
 * the logs of that batch or epoch; the save is awaited before training goes on.
 */
export class SnapshotCallback extends Callback {
  readonly store: SnapshotStore;
  /** Entries of the snapshots this callback saved, in order. */
  readonly saved: SnapshotEntry[] = [];
  private readonly options: SnapshotCallbackOptions;
  private readonly clock: ScheduleClock | undefined;
  private readonly everySteps: number | undefined;
  private readonly everyEpochs: number | undefined;
  private epoch = 0;

  constructor(options: SnapshotCallbackOptions) {
    super();
    const store = options?.store;
    if (store == null || typeof store.save !== 'function') {
      throw new InvalidArgumentError('options.store', store, 'a SnapshotStore');
    }
    this.store = store;
    this.options = options;
    const { schedule, every } = options as {
      schedule?: ScheduleClock;
      every?: { steps?: number; epochs?: number };
    };
    if (schedule !== undefined && every === undefined) {
      if (
        typeof schedule?.step !== 'number' ||
        typeof schedule.schedule?.collectsAt !== 'function'
      ) {
        throw new InvalidArgumentError(
          'options.schedule',
          schedule,
          'a scheduleCallback whose schedule has collection points (collectsAt), e.g. sseCosine or fgeTriangular',
        );
      }
      this.clock = schedule;
    } else if (schedule === undefined && every?.steps !== undefined && every.epochs === undefined) {
      this.everySteps = requireInteger('options.every.steps', every.steps, 1);
    } else if (schedule === undefined && every?.epochs !== undefined && every.steps === undefined) {
      this.everyEpochs = requireInteger('options.every.epochs', every.epochs, 1);
    } else {
      throw new InvalidArgumentError(
        'options',
        { schedule, every },
        'one of { schedule: scheduleCallback(...) }, { every: { steps: n } } or { every: { epochs: n } }',
      );
    }
  }

  /**
   * Call after each optimizer update in a custom loop (`fit` calls it from `onBatchEnd`). Saves
   * if the update just done is due; resolves with the new entry, if any.
   */
  async afterUpdate(model: LayersModel, logs?: FitLogs): Promise<SnapshotEntry | undefined> {
    const done = updatesDone(model, this.clock);
    const due =
      this.clock?.schedule.collectsAt?.(done - 1) === true ||
      (this.everySteps !== undefined && done > 0 && done % this.everySteps === 0);
    return due ? this.saveNow(model, done - 1, logs, this.epoch) : undefined;
  }

  /**
   * Call at the end of epoch `epoch` (0-based) in a custom loop (`fit` calls it from
   * `onEpochEnd`). Saves if the epoch is due; resolves with the new entry, if any.
   */
  async afterEpoch(
    model: LayersModel,
    epoch: number,
    logs?: FitLogs,
  ): Promise<SnapshotEntry | undefined> {
    requireInteger('epoch', epoch);
    this.epoch = epoch + 1;
    if (this.everyEpochs === undefined || (epoch + 1) % this.everyEpochs !== 0) return undefined;
    return this.saveNow(model, Math.max(0, updatesDone(model, this.clock) - 1), logs, epoch);
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onBatchEnd(_batch: number, logs?: FitLogs): Promise<void> {
    await this.afterUpdate(this.model, logs);
  }

  override async onEpochEnd(epoch: number, logs?: FitLogs): Promise<void> {
    await this.afterEpoch(this.model, epoch, logs);
  }

  private async saveNow(
    model: LayersModel,
    step: number,
    logs: FitLogs | undefined,
    epoch: number,
  ): Promise<SnapshotEntry> {
    const meta: SnapshotMeta = { step, epoch };
    const lr = this.clock !== undefined ? this.clock.schedule.lrAt(step) : currentRate(model);
    if (lr !== undefined && Number.isFinite(lr)) meta.learningRate = lr;
    if (this.options.recordLogs !== false && logs !== undefined) {
      const metrics = await readLogs(logs);
      if (Object.keys(metrics).length > 0) meta.metrics = metrics;
    }
    if (this.options.tags !== undefined) meta.tags = { ...this.options.tags };
    const entry = await this.store.save(model, meta, {
      includeOptimizer: this.options.includeOptimizer === true,
    });
    this.saved.push(entry);
    return entry;
  }
}

function currentRate(model: LayersModel): number | undefined {
  try {
    return model.optimizer == null ? undefined : getOptimizerLearningRate(model.optimizer);
  } catch {
    return undefined;
  }
}

async function readLogs(logs: FitLogs): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(logs)) {
    if (key === 'batch' || key === 'size') continue;
    let n: number | undefined;
    if (typeof value === 'number') n = value;
    else if (value instanceof tf.Tensor && value.size === 1 && !value.isDisposed) {
      n = (await value.data())[0];
    }
    if (n !== undefined && Number.isFinite(n)) out[key] = n;
  }
  return out;
}

/**
 * A `model.fit` callback (and custom-loop helper) that saves snapshots into `options.store` at
 * the schedule's collection points or every n steps/epochs. See `SnapshotCallback`.
 *
 * ```ts
 * const lr = scheduleCallback({ schedule: sseCosine({ lr0: 0.1, totalSteps: 600, cycles: 6 }) });
 * await model.fit(xs, ys, {
 *   epochs: 12,
 *   callbacks: [lr, snapshotCallback({ store, schedule: lr })],
 * });
 * ```
 */
export function snapshotCallback(options: SnapshotCallbackOptions): SnapshotCallback {
  return new SnapshotCallback(options);
}
