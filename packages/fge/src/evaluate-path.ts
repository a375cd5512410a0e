import {
  assertSameWeights,
  batchNormLayers,
  type DataSource,
  firstTensor,
  InvalidArgumentError,
  iterateBatches,
  readWeights,
  requireInRange,
  requireInteger,
  weightSpecs,
  writeWeights,
} from '@onerun/core';
import { type ForwardFn, MissingBatchNormDataError, recomputeBatchNorm } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Curve } from './curve.js';
import { classificationError, type LossFn, lossFunctions, meanLoss } from './loss.js';

/** One evaluated point of a path. */
export interface PathPoint {
  t: number;
  /** Mean loss over `data` at `φ(t)` (the compiled or given loss, no regularisers). */
  loss: number;
  /** Mean per-example error over `data` at `φ(t)` (`NaN` when `error: false`). */
  error: number;
}

/** Highest values along a path and how far they rise above the ends. */
export interface PathSummary {
  maxLoss: number;
  /** `t` of the highest loss. */
  maxLossT: number;
  /**
   * Loss barrier: `max_t [L(t) − ((1−t)·L(t₀) + t·L(t₁))]` over the evaluated points, `t₀`/`t₁`
   * being the first and last point (the ends, by default). ≈ 0 for a low-loss path.
   */
  lossBarrier: number;
  maxError: number;
  maxErrorT: number;
  /** The same rise for the error. */
  errorBarrier: number;
}

/** What `evaluatePath` returns: the series for plotting and its summary. */
export interface PathEvaluation {
  /** The path's name, e.g. `bezier(1 bend)` or `straight line`. */
  name: string;
  points: PathPoint[];
  t: number[];
  loss: number[];
  error: number[];
  summary: PathSummary;
}

/** Options of `evaluatePath`. */
export interface EvaluatePathOptions {
  /** Number of evenly spaced points from 0 to 1, both included (default 61). */
  points?: number;
  /** Explicit positions in [0, 1] instead of `points`. */
  at?: readonly number[];
  /**
   * Data to recompute batch-norm statistics from at every point (the training data, as in
   * Garipov et al.). Required when the model has batch-norm layers, unless
   * `allowStaleBatchNorm` is set.
   */
  bnData?: DataSource;
  /** Keep the model's current moving statistics at every point instead (not recommended). */
  allowStaleBatchNorm?: boolean;
  /** Batch size for tensor sources, for both passes (default 256). */
  batchSize?: number;
  /** Loss between targets and predictions; default: the model's compiled loss. */
  loss?: LossFn;
  /**
   * Per-example error of the first output (default: classification error, argmax against one-hot
   * or integer labels, or a 0.5 threshold for one unit); `false` to skip.
   */
  error?: LossFn | false;
  /** How `recomputeBatchNorm` runs the model (see `@onerun/swa`). */
  forward?: ForwardFn;
  /**
   * Called after each point is measured, while the model still holds `φ(t)` and its recomputed
   * statistics (e.g. to measure more metrics or to report progress).
   */
  onPoint?(point: PathPoint, index: number, model: LayersModel): void | Promise<void>;
}

/** Summary of a series: highest loss and error and their rise above the ends' interpolation. */
export function summarizePath(
  t: readonly number[],
  loss: readonly number[],
  error: readonly number[],
): PathSummary {
  const rise = (values: readonly number[]) => {
    const n = values.length;
    const t0 = t[0]!;
    const span = t[n - 1]! - t0;
    let max = -Infinity;
    let maxT = Number.NaN;
    let barrier = -Infinity;
    values.forEach((v, i) => {
      if (v > max) {
        max = v;
        maxT = t[i]!;
      }
      const s = span > 0 ? (t[i]! - t0) / span : 0;
      barrier = Math.max(barrier, v - ((1 - s) * values[0]! + s * values[n - 1]!));
    });
    return n === 0 ? { max: Number.NaN, maxT, barrier: Number.NaN } : { max, maxT, barrier };
  };
  const l = rise(loss);
  const e = rise(error);
  return {
    maxLoss: l.max,
    maxLossT: l.maxT,
    lossBarrier: l.barrier,
    maxError: e.max,
    maxErrorT: e.maxT,
    errorBarrier: e.barrier,
  };
}

function positions(options: EvaluatePathOptions): number[] {
  if (options.at !== undefined) {
    if (!Array.isArray(options.at) || options.at.length === 0) {
      throw new InvalidArgumentError('at', options.at, 'a non-empty list of t in [0, 1]');
    }
    return options.at.map((t, i) => requireInRange(`at[${i}]`, t, 0, 1));
  }
  const n = requireInteger('points', options.points ?? 61, 2);
  return Array.from({ length: n }, (_, i) => i / (n - 1));
}

/**
 * Measures loss and error on `data` along `path` (a curve or `straightLine`). At every `t`,
 * `φ(t)` is written into the model's trainable weights, the batch-norm statistics are recomputed
 * over `bnData` (`recomputeBatchNorm` from `@onerun/swa`; a point's own statistics, as the
 * method requires), and the model is run in inference mode over `data`, reading back one pair of
 * numbers per point. All of the model's weights are restored afterwards, also when it throws.
 */
export async function evaluatePath(
  model: LayersModel,
  path: Curve,
  data: DataSource,
  options: EvaluatePathOptions = {},
): Promise<PathEvaluation> {
  const ts = positions(options);
  const batchSize = requireInteger('batchSize', options.batchSize ?? 256, 1);
  assertSameWeights(
    weightSpecs(model, 'trainable'),
    path.specs,
    "model's trainable weights vs path",
  );
  const fns = lossFunctions(model, options.loss);
  const errorFn = options.error === undefined ? classificationError : options.error;
  if (errorFn !== false && typeof errorFn !== 'function') {
    throw new InvalidArgumentError(
      'error',
      errorFn,
      'a function (yTrue, yPred) => tensor, or false',
    );
  }
  const bnLayers = batchNormLayers(model);
  if (bnLayers.length > 0 && options.bnData === undefined && !options.allowStaleBatchNorm) {
    throw new MissingBatchNormDataError(bnLayers.map((l) => l.name));
  }

  const saved = readWeights(model, 'all');
  const points: PathPoint[] = [];
  try {
    for (const [index, t] of ts.entries()) {
      const w = path.weightsAt(t);
      try {
        writeWeights(model, w, 'trainable');
      } finally {
        tf.dispose(w);
      }
      if (bnLayers.length > 0 && options.bnData !== undefined) {
        await recomputeBatchNorm(model, options.bnData, {
          batchSize,
          ...(options.forward ? { forward: options.forward } : {}),
        });
      }
      let sums: tf.Tensor1D = tf.zeros([2]);
      let seen = 0;
      try {
        for await (const batch of iterateBatches(data, { batchSize })) {
          try {
            const next = tf.tidy(() => {
              const out = model.apply(batch.xs, { training: false }) as tf.Tensor | tf.Tensor[];
              const loss = tf.mul(meanLoss(fns, batch.ys, out), batch.size);
              const first = Array.isArray(out) ? out[0]! : out;
              const err =
                errorFn === false || batch.ys === undefined
                  ? tf.scalar(0)
                  : tf.sum(errorFn(firstTensor(batch.ys), first));
              return tf.add(sums, tf.stack([loss, err])) as tf.Tensor1D;
            });
            sums.dispose();
            sums = next;
            seen += batch.size;
          } finally {
            batch.dispose();
          }
        }
        const [lossSum, errSum] = await sums.data();
        const point: PathPoint = {
          t,
          loss: seen > 0 ? lossSum! / seen : Number.NaN,
          error: seen > 0 && errorFn !== false ? errSum! / seen : Number.NaN,
        };
        points.push(point);
        await options.onPoint?.(point, index, model);
      } finally {
        sums.dispose();
      }
    }
  } finally {
    writeWeights(model, saved, 'all');
    tf.dispose(saved);
  }
  const t = points.map((p) => p.t);
  const loss = points.map((p) => p.loss);
  const error = points.map((p) => p.error);
  return { name: path.name, points, t, loss, error, summary: summarizePath(t, loss, error) };
}
