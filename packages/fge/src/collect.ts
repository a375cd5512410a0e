import { InvalidArgumentError, requireInteger } from '@onerun/core';
import {
  fgeTriangular,
  type Schedule,
  type ScheduleCallback,
  scheduleCallback,
} from '@onerun/schedules';
import {
  type FitLogs,
  type SnapshotCallback,
  type SnapshotEntry,
  type SnapshotStore,
  snapshotCallback,
} from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';

/** Options of `fgeCallback`. */
export interface FgeOptions {
  /** Where the collected models go. */
  store: SnapshotStore;
  /**
   * The optimizer whose rate is driven (default: the model's own, `model.optimizer`, taken when
   * `fit` begins); a custom loop must pass it.
   */
  optimizer?: tf.Optimizer;
  /** The large rate α1 at the start and end of each cycle (e.g. 0.05 in the paper). */
  lr1: number;
  /** The small rate α2 at mid-cycle, where a model is collected (e.g. 0.01). */
  lr2: number;
  /** Cycle length in optimizer updates; even (the paper: 2–4 epochs' worth). */
  cycleSteps: number;
  /**
   * Stop after this many collections: `fit` is stopped right after the last one (so no update
   * past the last minimum is wasted), and `done` turns true for custom loops. Default: no limit.
   */
  cycles?: number;
  /** Tags added to every snapshot (default `{ method: 'fge' }`). */
  tags?: Record<string, string>;
  /** Also save the optimizer state with each snapshot (default false). */
  includeOptimizer?: boolean;
}

/**
 * Fast Geometric Ensembling: from a pretrained model, runs the triangular cyclical schedule
 * (`fgeTriangular` from `@onerun/schedules`) and saves a snapshot at each cycle's learning-rate
 * minimum (`snapshotCallback` from `@onerun/snapshots`) into a `SnapshotStore`, which then feeds
 * `Ensemble.fromStore` (`@onerun/ensemble`).
 *
 * With `model.fit`, pass it as a callback; the optimizer must be `model.optimizer`. In a custom
 * loop call `beforeUpdate()` before each update and `await afterUpdate(model)` after it. Its
 * step is its `scheduler`'s count (to resume mid-run: `scheduler.reset(step)`).
 */
export class FgeCallback extends Callback {
  /** The triangular schedule being followed. */
  readonly schedule: Schedule;
  /** The part that sets the learning rate (see `@onerun/schedules`). */
  readonly scheduler: ScheduleCallback;
  /** The part that saves snapshots (see `@onerun/snapshots`). */
  readonly collector: SnapshotCallback;
  /** Number of collections after which it stops; `undefined` for no limit. */
  readonly cycles: number | undefined;

  constructor(options: FgeOptions) {
    super();
    if (options == null || typeof options !== 'object') {
      throw new InvalidArgumentError(
        'options',
        options,
        '{ store, lr1, lr2, cycleSteps, cycles?, optimizer? }',
      );
    }
    this.schedule = fgeTriangular({
      lr1: options.lr1,
      lr2: options.lr2,
      cycleSteps: options.cycleSteps,
    });
    this.cycles =
      options.cycles === undefined ? undefined : requireInteger('cycles', options.cycles, 1);
    this.scheduler = scheduleCallback({
      schedule: this.schedule,
      ...(options.optimizer === undefined ? {} : { optimizer: options.optimizer }),
    });
    this.collector = snapshotCallback({
      store: options.store,
      schedule: this.scheduler,
      tags: options.tags ?? { method: 'fge' },
      includeOptimizer: options.includeOptimizer ?? false,
    });
  }

  /** Snapshots collected so far by this callback, in order. */
  get collected(): readonly SnapshotEntry[] {
    return this.collector.saved;
  }

  /** Index of the next update (0-based, across `fit` calls). */
  get step(): number {
    return this.scheduler.step;
  }

  /** True once `cycles` models have been collected. */
  get done(): boolean {
    return this.cycles !== undefined && this.collected.length >= this.cycles;
  }

  /** Sets the learning rate for the next update and returns it (custom loops). */
  beforeUpdate(): number {
    return this.scheduler.beforeUpdate();
  }

  /**
   * Call after each update (custom loops; `fit` calls it): saves a snapshot when the update just
   * done was at a cycle's minimum and resolves with its entry.
   */
  async afterUpdate(model: LayersModel, logs?: FitLogs): Promise<SnapshotEntry | undefined> {
    return this.collector.afterUpdate(model, logs);
  }

  override setModel(model: Parameters<Callback['setModel']>[0]): void {
    super.setModel(model);
    this.scheduler.setModel(model);
    this.collector.setModel(model);
  }

  override setParams(params: Parameters<Callback['setParams']>[0]): void {
    super.setParams(params);
    this.scheduler.setParams(params);
    this.collector.setParams(params);
  }

  override async onTrainBegin(_logs?: FitLogs): Promise<void> {
    await this.scheduler.onTrainBegin();
  }

  override async onBatchBegin(_batch: number, _logs?: FitLogs): Promise<void> {
    await this.scheduler.onBatchBegin();
  }

  override async onBatchEnd(_batch: number, logs?: FitLogs): Promise<void> {
    await this.afterUpdate(this.model, logs);
    if (this.done) this.model.stopTraining = true;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    await this.collector.onEpochBegin(epoch);
  }
}

/**
 * An `FgeCallback`: FGE collection for `model.fit({ callbacks: [fgeCallback({...})] })` or a
 * custom loop.
 *
 * ```ts
 * const store = new MemorySnapshotStore();
 * const fge = fgeCallback({ store, lr1: 0.05, lr2: 0.01, cycleSteps: 2 * stepsPerEpoch, cycles: 10 });
 * await model.fit(xs, ys, { epochs: 100, batchSize, callbacks: [fge] }); // stops after 10 models
 * const ensemble = await Ensemble.fromStore(store);
 * ```
 */
export function fgeCallback(options: FgeOptions): FgeCallback {
  return new FgeCallback(options);
}

/** Options of `fge`: the collection options plus how many models and how to batch. */
export interface FgeRunOptions extends Omit<FgeOptions, 'optimizer'> {
  /** Number of models to collect (one per cycle). */
  cycles: number;
  /** Batch size for tensor data (default 32). */
  batchSize?: number;
  /** Shuffle tensor data every epoch (default true, as `model.fit`). */
  shuffle?: boolean;
}

/** What `fge` returns. */
export interface FgeResult {
  /** The snapshots saved, one per cycle, in order. */
  collected: SnapshotEntry[];
  /** Optimizer updates done. */
  steps: number;
}

type FitData = { xs: tf.Tensor | tf.Tensor[]; ys: tf.Tensor | tf.Tensor[] };
type Dataset = Parameters<LayersModel['fitDataset']>[0];

/**
 * Runs FGE on a compiled, pretrained model with `model.fit` (tensor data: `{ xs, ys }` or
 * `[xs, ys]`) or `model.fitDataset` (a batched `tf.data.Dataset`): `cycles` cycles of the
 * triangular schedule, one snapshot at each minimum, stopping right after the last one. The model
 * keeps the weights of the last update. For custom loops use `fgeCallback`.
 */
export async function fge(
  model: LayersModel,
  data: FitData | [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]] | Dataset,
  options: FgeRunOptions,
): Promise<FgeResult> {
  const cycles = requireInteger('cycles', options?.cycles, 1);
  if (model?.optimizer == null) {
    throw new InvalidArgumentError(
      'model',
      model,
      'a compiled model (model.compile({ optimizer, loss }))',
    );
  }
  const callback = fgeCallback({ ...options, optimizer: model.optimizer });
  const start = callback.step;
  const updates = cycles * callback.schedule.cycleSteps!;
  const pair = Array.isArray(data) ? { xs: data[0], ys: data[1] } : (data as Partial<FitData>);
  if (pair.xs !== undefined && pair.ys !== undefined) {
    const batchSize = requireInteger('batchSize', options.batchSize ?? 32, 1);
    const first = Array.isArray(pair.xs) ? pair.xs[0] : pair.xs;
    const perEpoch = Math.ceil((first?.shape[0] ?? 0) / batchSize);
    if (perEpoch === 0) throw new InvalidArgumentError('data.xs', first, 'at least one example');
    await model.fit(pair.xs, pair.ys, {
      batchSize,
      epochs: Math.ceil(updates / perEpoch),
      shuffle: options.shuffle ?? true,
      verbose: 0,
      callbacks: [callback],
    });
  } else if (typeof (data as Dataset)?.iterator === 'function') {
    // Each epoch has at least one batch, so this many epochs always reach the last minimum.
    await model.fitDataset(data as Dataset, { epochs: updates, verbose: 0, callbacks: [callback] });
  } else {
    throw new InvalidArgumentError(
      'data',
      data,
      '{ xs, ys }, [xs, ys] or a batched tf.data.Dataset',
    );
  }
  return { collected: [...callback.collected], steps: callback.step - start };
}
