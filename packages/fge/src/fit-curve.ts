import {
  assertAllFinite,
  assertSameWeights,
  type DataSource,
  DisposedError,
  firstNonFinite,
  InvalidArgumentError,
  iterateBatches,
  modelVariables,
  NonFiniteError,
  readWeights,
  requireInteger,
  requireNonNegative,
  requirePositive,
  seededRandom,
  shuffledIndices,
  shuffledSource,
  weightSpecs,
  writeWeights,
} from '@onerun/core';
import { type Schedule, setOptimizerLearningRate } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Curve } from './curve.js';
import { type LossFn, lossFunctions, meanLoss } from './loss.js';

/** What `fitCurve` reports after each batch (only to callbacks that ask for it). */
export interface FitCurveBatchLogs {
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  /** Position on the curve sampled for this batch. */
  t: number;
  learningRate: number | undefined;
  /** Mean loss of the batch at `φ(t)` (before the update; weight decay not included). */
  loss: number;
}

/** What `fitCurve` reports after each epoch. */
export interface FitCurveEpochLogs {
  epoch: number;
  /** Mean batch loss over the epoch, weighted by batch size. */
  loss: number;
  /** Updates done in this epoch. */
  steps: number;
}

/**
 * Progress hooks for `fitCurve`, in the style of `model.fit` callbacks. Each may return a promise,
 * which is awaited. An `onBatchEnd` hook reads each batch's loss back from the device (one sync
 * per batch); leave it out on hot paths.
 */
export interface FitCurveCallbacks {
  onTrainBegin?(): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** `step` is the 0-based count of updates before this one, across epochs. */
  onBatchEnd?(step: number, logs: FitCurveBatchLogs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: FitCurveEpochLogs): void | Promise<void>;
  onTrainEnd?(history: FitCurveHistory): void | Promise<void>;
}

/** Options of `fitCurve`. */
export interface FitCurveOptions {
  /** Passes over `data` (default 1). */
  epochs?: number;
  /** Batch size for tensor sources (default 32); datasets come batched. */
  batchSize?: number;
  /** Reshuffle tensor sources every epoch, seeded (default true). */
  shuffle?: boolean;
  /**
   * Updates the bends. Default: SGD with momentum 0.9 (as in Garipov et al.), created and
   * disposed by `fitCurve`. A given optimizer stays the caller's (its state is kept).
   */
  optimizer?: tf.Optimizer;
  /** Constant learning rate when there is no `schedule` (default 0.01 for the default optimizer). */
  learningRate?: number;
  /** Learning rate per update (`lrAt(initialStep + step)`), set through `setOptimizerLearningRate`. */
  schedule?: Schedule;
  /** Step of the schedule to start from, for resumed runs (default 0). */
  initialStep?: number;
  /** Adds `(weightDecay / 2)·‖φ(t)‖²` to the loss: decay of the curve's points, not the bends. */
  weightDecay?: number;
  /** Loss between targets and predictions; default: the model's compiled loss. */
  loss?: LossFn;
  /** Seed of the `t` samples and of the shuffling (default 0). */
  seed?: number;
  callbacks?: FitCurveCallbacks | readonly FitCurveCallbacks[];
  /** Stops after the current batch when aborted. */
  signal?: AbortSignal;
}

/** What `fitCurve` returns: per-epoch losses and the number of updates. */
export interface FitCurveHistory {
  epochs: FitCurveEpochLogs[];
  steps: number;
}

/**
 * Trains the bends of `curve` so that the expected loss `E_{t∼U(0,1)} L(φ(t))` is low, with the
 * ends fixed. For each batch one `t` is drawn (seeded), `φ(t)` is written into the model's
 * trainable weights, the ordinary gradient `∂L/∂w` is taken with a training-mode forward pass,
 * and bend `k` gets `c_k(t)·(∂L/∂w + weightDecay·φ(t))`, which is its exact gradient because
 * `φ(t)` is linear in the bends. Works on any `LayersModel` whose trainable weights match the
 * curve (`readWeights(model, 'trainable')` of two trained models gives the ends); the model's
 * layers are not changed, and all its weights (batch-norm statistics included, which the
 * training-mode passes move) are restored afterwards, also when it throws.
 */
export async function fitCurve(
  model: LayersModel,
  curve: Curve,
  data: DataSource,
  options: FitCurveOptions = {},
): Promise<FitCurveHistory> {
  const epochs = requireInteger('epochs', options.epochs ?? 1, 1);
  const batchSize = requireInteger('batchSize', options.batchSize ?? 32, 1);
  const initialStep = requireInteger('initialStep', options.initialStep ?? 0);
  const weightDecay = requireNonNegative('weightDecay', options.weightDecay ?? 0);
  const seed = requireInteger('seed', options.seed ?? 0);
  const shuffle = options.shuffle ?? true;
  if (curve.isDisposed) throw new DisposedError('fitCurve', 'curve');
  if (curve.numBends === 0) {
    throw new InvalidArgumentError(
      'curve',
      curve.name,
      'a live curve with at least one bend (the straight line has nothing to train)',
    );
  }
  assertSameWeights(
    weightSpecs(model, 'trainable'),
    curve.specs,
    "model's trainable weights vs curve",
  );
  const ends = [curve.weightsAt(0), curve.weightsAt(1)];
  try {
    await assertAllFinite(ends[0]!, `fitCurve: the curve's start φ(0)`);
    await assertAllFinite(ends[1]!, `fitCurve: the curve's end φ(1)`);
    await assertAllFinite(curve.bends.flat(), `fitCurve: the curve's bends`);
  } finally {
    tf.dispose(ends.flat());
  }
  const fns = lossFunctions(model, options.loss);
  const callbacks = [options.callbacks ?? []].flat() as FitCurveCallbacks[];
  const wantsBatchLoss = callbacks.some((c) => c.onBatchEnd);

  if (options.learningRate !== undefined) requirePositive('learningRate', options.learningRate);
  const ownsOptimizer = options.optimizer === undefined;
  const optimizer = options.optimizer ?? tf.train.momentum(options.learningRate ?? 0.01, 0.9);
  if (!ownsOptimizer && options.learningRate !== undefined) {
    setOptimizerLearningRate(optimizer, options.learningRate);
  }

  const targets = modelVariables(model, 'trainable');
  const targetVars = targets.map((v) => v.read() as tf.Variable);
  const bends = curve.bends;
  const randomT = seededRandom(seed);
  const randomOrder = seededRandom(seed + 1);
  const saved = readWeights(model, 'all');
  const history: FitCurveHistory = { epochs: [], steps: 0 };

  const step = (xs: tf.Tensor | tf.Tensor[], ys: tf.Tensor | tf.Tensor[] | undefined, t: number) =>
    tf.tidy(() => {
      const c = curve.bendCoefficients(t);
      const w = curve.weightsAt(t);
      targets.forEach((v, i) => {
        v.write(w[i]!);
      });
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(xs, { training: true }) as tf.Tensor | tf.Tensor[];
        let loss = meanLoss(fns, ys, out);
        for (const r of model.calculateLosses()) loss = tf.add(loss, r);
        return loss;
      }, targetVars);
      const g = targetVars.map((v, i) => {
        const gi = grads[v.name]!;
        return weightDecay > 0 ? tf.add(gi, tf.mul(w[i]!, weightDecay)) : gi;
      });
      // Every bend gets a gradient every step, in the same order, even where c_k(t) = 0:
      // Adam/RMSProp/Momentum key their slots by position in this list.
      const named: { name: string; tensor: tf.Tensor }[] = [];
      bends.forEach((bend, k) => {
        bend.forEach((b, i) => {
          named.push({ name: b.name, tensor: tf.mul(g[i]!, c[k]!) });
        });
      });
      optimizer.applyGradients(named);
      return value;
    });

  try {
    for (const cb of callbacks) await cb.onTrainBegin?.();
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const source = shuffle
        ? shuffledSource(data, (n) => shuffledIndices(n, randomOrder))
        : { data, dispose: () => {} };
      let sum: tf.Scalar = tf.scalar(0);
      let seen = 0;
      let batchIndex = 0;
      try {
        for await (const batch of iterateBatches(source.data, { batchSize })) {
          const t = randomT();
          let lr: number | undefined;
          let loss: tf.Scalar;
          try {
            if (options.schedule) {
              lr = options.schedule.lrAt(initialStep + history.steps);
              setOptimizerLearningRate(optimizer, lr);
            }
            loss = step(batch.xs, batch.ys, t);
          } finally {
            batch.dispose();
          }
          const next = tf.tidy(() => tf.add(sum, tf.mul(loss, batch.size)) as tf.Scalar);
          sum.dispose();
          sum = next;
          seen += batch.size;
          if (wantsBatchLoss) {
            const value = (await loss.data())[0]!;
            const logs = { epoch, batch: batchIndex, t, learningRate: lr, loss: value };
            for (const cb of callbacks) await cb.onBatchEnd?.(history.steps, logs);
          }
          loss.dispose();
          history.steps++;
          batchIndex++;
          if (options.signal?.aborted) break;
        }
        const total = (await sum.data())[0]!;
        if (!Number.isFinite(total) || (await firstNonFinite(curve.bends.flat())) >= 0) {
          const rate = options.schedule
            ? `the schedule's learning rates`
            : `learning rate ${options.learningRate ?? 0.01}`;
          throw new NonFiniteError(
            `fitCurve epoch ${epoch + 1}'s loss or bends (training diverged at ${rate}; lower it)`,
          );
        }
        const logs: FitCurveEpochLogs = {
          epoch,
          loss: seen > 0 ? total / seen : Number.NaN,
          steps: batchIndex,
        };
        history.epochs.push(logs);
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
      } finally {
        sum.dispose();
        source.dispose();
      }
      if (options.signal?.aborted) break;
    }
  } finally {
    writeWeights(model, saved, 'all');
    tf.dispose(saved);
    if (ownsOptimizer) optimizer.dispose();
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(history);
  return history;
}
