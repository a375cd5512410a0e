import { type DataSource, InvalidArgumentError, requireInteger } from '@onerun/core';
import { scheduleCallback, swaDecay } from '@onerun/schedules';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { WeightAverager } from './averager.js';
import type { RecomputeBatchNormResult } from './batch-norm.js';
import { swaCallback } from './callback.js';

/** Options of {@link swa}. */
export interface SwaRunOptions {
  /** Epochs in all: `swaStart` epochs of ordinary training, then the SWA phase. */
  epochs: number;
  /**
   * The epoch (1-based, ≥ 1 and < `epochs`) whose end weights are the first averaged, as the
   * official code's `swa_start`: the weights at the end of it and of every later epoch are.
   */
  swaStart: number;
  /** The rate at the start (`swaDecay`'s `lrInit`), held for the first half of `swaStart`. */
  lr: number;
  /** The constant rate of the SWA phase (≤ `lr`), reached at 90% of `swaStart`. */
  swaLr: number;
  /** Batch size for tensor data (default 32). */
  batchSize?: number;
  /** Shuffle tensor data every epoch (default true, as `model.fit`). */
  shuffle?: boolean;
  /**
   * Batches per epoch of a `tf.data.Dataset` (default: its `size`, when it knows it). Tensor data
   * needs none.
   */
  stepsPerEpoch?: number;
  /** Data for the batch-norm recompute (default: the training data). */
  bnData?: DataSource;
  /** Batch size of the recompute when `bnData` is tensors (default 32). */
  bnBatchSize?: number;
}

/** What {@link swa} returns. */
export interface SwaResult {
  /** Models averaged: `epochs − swaStart + 1`, one per epoch from `swaStart` on. */
  count: number;
  /** Optimizer updates done. */
  steps: number;
  /** The batch-norm recompute, for a model with batch-norm layers. */
  batchNorm?: RecomputeBatchNormResult;
}

type Inputs = tf.Tensor | tf.Tensor[];
type FitData = { xs: Inputs; ys: Inputs };
type Dataset = Parameters<LayersModel['fitDataset']>[0];

function batchesOfDataset(data: Dataset, stepsPerEpoch: number | undefined): number {
  if (stepsPerEpoch !== undefined) return requireInteger('options.stepsPerEpoch', stepsPerEpoch, 1);
  const size = (data as { size?: number | null }).size;
  if (typeof size === 'number' && Number.isInteger(size) && size > 0) return size;
  throw new InvalidArgumentError(
    'options.stepsPerEpoch',
    stepsPerEpoch,
    `the number of batches per epoch (this dataset's size is ${size})`,
  );
}

/**
 * Stochastic Weight Averaging in one call, on a compiled model with `model.fit` (tensor data:
 * `{ xs, ys }` or `[xs, ys]`) or `model.fitDataset` (a batched `tf.data.Dataset`): the official
 * schedule (`swaDecay`: `lr`, decaying from half of `swaStart` to `swaLr` at 90% of it, then
 * constant), the running mean of the weights at the end of every epoch after `swaStart`
 * (`WeightAverager`), and at the end the average written into the model with its batch-norm
 * statistics recomputed from the training data (or `bnData`). For several `fit` calls, EMA,
 * SWAG or a custom loop, wire `swaCallback` by hand.
 */
export async function swa(
  model: LayersModel,
  data: FitData | [Inputs, Inputs] | Dataset,
  options: SwaRunOptions,
): Promise<SwaResult> {
  if (model?.optimizer == null) {
    throw new InvalidArgumentError(
      'model',
      model,
      'a compiled model (model.compile({ optimizer, loss }))',
    );
  }
  const epochs = requireInteger('options.epochs', options?.epochs, 2);
  const swaStart = requireInteger('options.swaStart', options.swaStart, 1);
  if (swaStart >= epochs) {
    throw new InvalidArgumentError(
      'options.swaStart',
      swaStart,
      `fewer epochs than options.epochs = ${epochs}, so that something is averaged`,
    );
  }
  const pair = Array.isArray(data) ? { xs: data[0], ys: data[1] } : (data as Partial<FitData>);
  const tensors = pair.xs !== undefined && pair.ys !== undefined;
  if (!tensors && typeof (data as Dataset)?.iterator !== 'function') {
    throw new InvalidArgumentError(
      'data',
      data,
      '{ xs, ys }, [xs, ys] or a batched tf.data.Dataset',
    );
  }
  const batchSize = requireInteger('options.batchSize', options.batchSize ?? 32, 1);
  let perEpoch: number;
  if (tensors) {
    const first = Array.isArray(pair.xs) ? pair.xs[0] : pair.xs;
    perEpoch = Math.ceil((first?.shape[0] ?? 0) / batchSize);
    if (perEpoch === 0) throw new InvalidArgumentError('data.xs', first, 'at least one example');
  } else {
    perEpoch = batchesOfDataset(data as Dataset, options.stepsPerEpoch);
  }
  const lr = scheduleCallback({
    schedule: swaDecay({
      lrInit: options.lr,
      swaLr: options.swaLr,
      swaStart: swaStart * perEpoch,
      totalSteps: epochs * perEpoch,
    }),
    optimizer: model.optimizer,
  });
  const averager = new WeightAverager({ mode: 'swa' });
  const bnData: DataSource =
    options.bnData ?? (tensors ? { xs: pair.xs as Inputs } : (data as DataSource));
  const averaging = swaCallback({
    averager,
    schedule: lr,
    start: { epoch: swaStart },
    every: { epochs: 1 },
    bnData,
    ...(options.bnBatchSize === undefined ? {} : { bnBatchSize: options.bnBatchSize }),
  });
  const start = lr.step;
  try {
    const fit = { epochs, verbose: 0, callbacks: [lr, averaging] };
    if (tensors) {
      await model.fit(pair.xs as Inputs, pair.ys as Inputs, {
        ...fit,
        batchSize,
        shuffle: options.shuffle ?? true,
      });
    } else {
      await model.fitDataset(data as Dataset, fit);
    }
  } finally {
    averager.dispose();
  }
  const done = averaging.lastFinalize;
  return {
    count: done?.count ?? 0,
    steps: lr.step - start,
    ...(done?.batchNorm === undefined ? {} : { batchNorm: done.batchNorm }),
  };
}
