import { InvalidArgumentError, requireInteger } from '@onerun/core';
import { getOptimizerLearningRate, type Schedule } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import type { SnapshotEntry, SnapshotMeta, SnapshotStore } from './store.js';

/**
 * When `snapshotCallback` saves:
 * - `{ schedule }`: after every update `step` with `schedule.collectsAt(step)` true (SSE cycle
 *   ends, FGE minima, SWA cycle ends);
 * - `{ every: { steps: n } }`: after every n-th update (steps n−1, 2n−1, …);
 * - `{ every: { epochs: n } }`: at the end of every n-th epoch.
 */
export type SnapshotTrigger =
  | { schedule: Schedule }
  | { every: { steps: number } }
  | { every: { epochs: number } };

/** Options of `snapshotCallback`. */
export interface SnapshotCallbackOptions {
  /** Index of the next optimizer update (default 0); set it when resuming a run. */
  initialStep?: number;
  /** Index of the next epoch (default 0); set it when resuming a run. */
  initialEpoch?: number;
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
 * It counts updates itself, across `fit` calls. Its `onBatchEnd` reads nothing from the device
 * unless it saves (tfjs resolves batch logs only for plain-object callbacks, not for `Callback`
 * subclasses), so batches without a save cost no device sync. A save reads the weights and, with
 * `recordLogs`, the logs of that batch or epoch; the save is awaited before training goes on.
 */
export class SnapshotCallback extends Callback {
  readonly store: SnapshotStore;
  readonly trigger: SnapshotTrigger;
  /** Entries of the snapshots this callback saved, in order. */
  readonly saved: SnapshotEntry[] = [];
  private readonly options: SnapshotCallbackOptions;
  private nextStep: number;
  private nextEpoch: number;
  private readonly everySteps: number | undefined;
  private readonly everyEpochs: number | undefined;
  private readonly schedule: Schedule | undefined;

  constructor(
    store: SnapshotStore,
    trigger: SnapshotTrigger,
    options: SnapshotCallbackOptions = {},
  ) {
    super();
    if (store == null || typeof store.save !== 'function') {
      throw new InvalidArgumentError('store', store, 'a SnapshotStore');
    }
    this.store = store;
    this.trigger = trigger;
    this.options = options;
    this.nextStep = requireInteger('initialStep', options.initialStep ?? 0);
    this.nextEpoch = requireInteger('initialEpoch', options.initialEpoch ?? 0);
    const t = trigger as { schedule?: Schedule; every?: { steps?: number; epochs?: number } };
    if (t?.schedule !== undefined && t.every === undefined) {
      if (typeof t.schedule.collectsAt !== 'function') {
        throw new InvalidArgumentError(
          'trigger.schedule',
          t.schedule.name ?? t.schedule,
          'a schedule with collection points (collectsAt), e.g. sseCosine or fgeTriangular',
        );
      }
      this.schedule = t.schedule;
    } else if (t?.every?.steps !== undefined && t.every.epochs === undefined) {
      this.everySteps = requireInteger('trigger.every.steps', t.every.steps, 1);
    } else if (t?.every?.epochs !== undefined && t.every.steps === undefined) {
      this.everyEpochs = requireInteger('trigger.every.epochs', t.every.epochs, 1);
    } else {
      throw new InvalidArgumentError(
        'trigger',
        trigger,
        '{ schedule } or { every: { steps: n } } or { every: { epochs: n } }',
      );
    }
  }

  /** Index of the next optimizer update (0-based, counted across `fit` calls). */
  get step(): number {
    return this.nextStep;
  }

  /** Index of the next epoch (0-based, counted across `fit` calls). */
  get epoch(): number {
    return this.nextEpoch;
  }

  /** Continues counting from update `step` (and epoch `epoch`), e.g. after restoring a snapshot. */
  reset(step: number, epoch: number = this.nextEpoch): void {
    this.nextStep = requireInteger('step', step);
    this.nextEpoch = requireInteger('epoch', epoch);
  }

  /**
   * Call after each optimizer update in a custom loop (`fit` calls it from `onBatchEnd`). Saves
   * if the trigger says so for the update just done; resolves with the new entry, if any.
   */
  async afterUpdate(model: LayersModel, logs?: FitLogs): Promise<SnapshotEntry | undefined> {
    const done = this.nextStep++;
    const due =
      this.schedule?.collectsAt?.(done) === true ||
      (this.everySteps !== undefined && (done + 1) % this.everySteps === 0);
    return due ? this.saveNow(model, done, logs) : undefined;
  }

  /** Call at the end of each epoch in a custom loop (`fit` calls it from `onEpochEnd`). */
  async afterEpoch(model: LayersModel, logs?: FitLogs): Promise<SnapshotEntry | undefined> {
    const done = this.nextEpoch++;
    if (this.everyEpochs === undefined || (done + 1) % this.everyEpochs !== 0) return undefined;
    return this.saveNow(model, Math.max(0, this.nextStep - 1), logs, done);
  }

  override async onBatchEnd(_batch: number, logs?: FitLogs): Promise<void> {
    await this.afterUpdate(this.model, logs);
  }

  override async onEpochEnd(_epoch: number, logs?: FitLogs): Promise<void> {
    await this.afterEpoch(this.model, logs);
  }

  private async saveNow(
    model: LayersModel,
    step: number,
    logs: FitLogs | undefined,
    epoch: number = this.nextEpoch,
  ): Promise<SnapshotEntry> {
    if (model == null) {
      throw new InvalidArgumentError('model', model, 'the model being trained');
    }
    const meta: SnapshotMeta = { step, epoch };
    const lr = this.schedule !== undefined ? this.schedule.lrAt(step) : currentRate(model);
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
 * A `model.fit` callback (and custom-loop helper) that saves snapshots into `store` when the
 * trigger says so. See `SnapshotCallback`.
 *
 * ```ts
 * const schedule = sseCosine({ lr0: 0.1, totalSteps: 600, cycles: 6 });
 * await model.fit(xs, ys, {
 *   epochs: 12,
 *   callbacks: [scheduleCallback(model.optimizer, schedule), snapshotCallback(store, { schedule })],
 * });
 * ```
 */
export function snapshotCallback(
  store: SnapshotStore,
  trigger: SnapshotTrigger,
  options: SnapshotCallbackOptions = {},
): SnapshotCallback {
  return new SnapshotCallback(store, trigger, options);
}
