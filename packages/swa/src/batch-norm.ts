import {
  batchNormLayers,
  type DataSource,
  firstNonFinite,
  type Inputs,
  InvalidArgumentError,
  isBatchNormLayer,
  iterateBatches,
  type Layer,
  NonFiniteError,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { BatchNormInternalsError, BatchNormNotReachedError, EmptyDataError } from './errors.js';

/** Runs the model on one batch of inputs; its result is disposed by `recomputeBatchNorm`. */
export type ForwardFn = (model: LayersModel, xs: Inputs) => tf.Tensor | tf.Tensor[];

/** Options of `recomputeBatchNorm`. */
export interface RecomputeBatchNormOptions {
  /** Batch size when `data` is a tensor, `{ xs }` or `[xs, ys]` (default 32). */
  batchSize?: number;
  /**
   * How to run the model on a batch (default `model.apply(xs, { training: false })`). Must be
   * synchronous. Use it for models whose call is not `model.apply(x)` (several inputs built from
   * one batch, a preprocessing step, a sub-model).
   */
  forward?: ForwardFn;
  /**
   * Variance written to `moving_variance`: `'biased'` (default; divides by the number of values
   * N, as tfjs's own training path and the normalisation itself do) or `'unbiased'` (N − 1).
   */
  variance?: 'biased' | 'unbiased';
  /** Only these batch-norm layers (default: every one in the model, nested models included). */
  layers?: Layer[];
}

/** What a recompute did. */
export interface RecomputeBatchNormResult {
  /** Number of batch-norm layers whose statistics were written. */
  layers: number;
  /** Number of examples in the pass. */
  examples: number;
  /** Number of batches in the pass. */
  batches: number;
}

/** The parts of tfjs's `BatchNormalization` a recompute reads (private in its typings). */
interface BatchNormInternals {
  name: string;
  axis: number;
  epsilon: number;
  gamma?: LayerVariable | null;
  beta?: LayerVariable | null;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor;
}

/** The {@link BatchNormInternals} a layer lacks (none for tfjs-layers 4.22's BatchNormalization). */
function missingInternals(layer: object): string[] {
  const l = layer as Record<string, unknown>;
  const isVariable = (v: unknown) =>
    typeof (v as LayerVariable | undefined)?.read === 'function' &&
    typeof (v as LayerVariable).write === 'function';
  return [
    typeof l.axis === 'number' ? '' : 'axis',
    typeof l.epsilon === 'number' ? '' : 'epsilon',
    isVariable(l.movingMean) ? '' : 'movingMean',
    isVariable(l.movingVariance) ? '' : 'movingVariance',
    typeof l.call === 'function' ? '' : 'call',
  ].filter((name) => name !== '');
}

function hasInternals(layer: object): layer is BatchNormInternals {
  return missingInternals(layer).length === 0;
}

/**
 * Running per-channel count, mean and sum of squared deviations (M2) over every value a layer
 * sees, merged batch by batch with Chan et al.'s parallel update, which stays accurate in
 * float32 where a plain sum of squares would cancel.
 */
class ChannelMoments {
  count = 0;
  mean: tf.Tensor | null = null;
  m2: tf.Tensor | null = null;

  /** Merges one batch (called inside a `tf.tidy`). */
  add(batchMean: tf.Tensor, batchVariance: tf.Tensor, batchCount: number): void {
    const n = this.count;
    const total = n + batchCount;
    const batchM2 = tf.mul(batchVariance, batchCount);
    let mean: tf.Tensor;
    let m2: tf.Tensor;
    if (this.mean === null || this.m2 === null) {
      mean = batchMean;
      m2 = batchM2;
    } else {
      const delta = tf.sub(batchMean, this.mean);
      mean = tf.add(this.mean, tf.mul(delta, batchCount / total));
      m2 = tf.add(tf.add(this.m2, batchM2), tf.mul(tf.square(delta), (n * batchCount) / total));
    }
    tf.dispose([this.mean, this.m2].filter((t): t is tf.Tensor => t !== null));
    this.mean = tf.keep(mean);
    this.m2 = tf.keep(m2);
    this.count = total;
  }

  /** The pass's mean and (biased or unbiased) variance (called inside a `tf.tidy`). */
  statistics(unbiased: boolean): { mean: tf.Tensor; variance: tf.Tensor } {
    const divisor = unbiased ? Math.max(this.count - 1, 1) : this.count;
    return {
      mean: tf.clone(this.mean as tf.Tensor),
      variance: tf.div(this.m2 as tf.Tensor, divisor),
    };
  }

  dispose(): void {
    tf.dispose([this.mean, this.m2].filter((t): t is tf.Tensor => t !== null));
    this.mean = null;
    this.m2 = null;
  }
}

/**
 * A replacement for a batch-norm layer's `call` that normalises with the batch's own statistics
 * (as tfjs's training path does, but without touching the moving statistics, and also for layers
 * with `center` or `scale` false) and merges those statistics into `moments`.
 *
 * The per-channel sums are matrix products `dᵀ·1` over the `[values, channels]` view of the
 * input, shifted by one sample per channel: unlike `tf.moments` over leading axes, that needs no
 * transpose (which the cpu backend does element by element, ~30× slower than this), and the shift
 * keeps `E[d²] − E[d]²` free of cancellation.
 */
function batchStatisticsCall(layer: BatchNormInternals, moments: ChannelMoments) {
  return (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor =>
    tf.tidy(() => {
      const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      const rank = x.rank;
      const axis = layer.axis >= 0 ? layer.axis : layer.axis + rank;
      const channels = x.shape[axis] as number;
      const last = axis === rank - 1;
      const perm = [...Array(rank).keys()].filter((a) => a !== axis).concat(axis);
      const rows = tf.reshape(last ? x : tf.transpose(x, perm), [-1, channels]) as tf.Tensor2D;
      const values = rows.shape[0];
      const shift = tf.slice(rows, [0, 0], [1, channels]);
      // rows − shift. The cpu backend's broadcasting binary ops index element by element (~3×
      // slower than a same-shape op plus the product that tiles the shift); others broadcast fast.
      const d = tf.sub(
        rows,
        tf.getBackend() === 'cpu' ? tf.matMul(tf.ones([values, 1]), shift) : shift,
      );
      // Column sums as dᵀ·1, with the data as the streamed operand (XNNPACK packs the other).
      const ones = tf.ones([values, 1]) as tf.Tensor2D;
      const dMean = tf.div(tf.reshape(tf.matMul(d, ones, true, false), [1, channels]), values);
      const dSquare = tf.div(
        tf.reshape(tf.matMul(tf.square(d), ones, true, false), [1, channels]),
        values,
      );
      const mean = tf.reshape(tf.add(shift, dMean), [channels]);
      const variance = tf.reshape(tf.relu(tf.sub(dSquare, tf.square(dMean))), [channels]);
      moments.add(mean, variance, values);
      return normalise(layer, x, axis, mean, variance);
    });
}

/** Normalises `x` with the given per-channel statistics and the layer's gamma/beta if any. */
function normalise(
  layer: BatchNormInternals,
  x: tf.Tensor,
  axis: number,
  mean: tf.Tensor,
  variance: tf.Tensor,
): tf.Tensor {
  const gamma = layer.gamma ? layer.gamma.read() : undefined;
  const beta = layer.beta ? layer.beta.read() : undefined;
  if (axis === x.rank - 1 && x.rank <= 4) {
    return tf.batchNorm(x, mean, variance, beta, gamma, layer.epsilon);
  }
  const shape = x.shape.map((size, a) => (a === axis ? size : 1));
  let y = tf.mul(
    tf.sub(x, tf.reshape(mean, shape)),
    tf.rsqrt(tf.add(tf.reshape(variance, shape), layer.epsilon)),
  );
  if (gamma) y = tf.mul(y, tf.reshape(gamma, shape));
  if (beta) y = tf.add(y, tf.reshape(beta, shape));
  return y;
}

function defaultForward(model: LayersModel, xs: Inputs): tf.Tensor | tf.Tensor[] {
  return model.apply(xs, { training: false }) as tf.Tensor | tf.Tensor[];
}

/**
 * Resets and recomputes every batch-norm layer's moving mean and variance for the model's current
 * weights from one pass over `data` — what PyTorch's `update_bn` does, and what SWA needs after
 * averaging weights.
 *
 * - **Cumulative, per-sample weighting**: each layer's statistics are the exact mean and variance
 *   of every value it receives over the whole pass (per channel), not an average of per-batch
 *   statistics, so a short last batch counts for exactly its size and the result for a layer fed
 *   directly by the data does not depend on the batch size.
 * - **Biased variance** by default (divide by N), the convention of tfjs/Keras batch norm, whose
 *   inference path divides by `sqrt(moving_variance + ε)` exactly as training does with the
 *   biased batch variance; `variance: 'unbiased'` divides by N − 1 (PyTorch's convention).
 * - **Train-mode batch norm, inference-mode everything else**: during the pass each batch-norm
 *   layer normalises with its batch's statistics (so deeper layers see what they see in
 *   training), while the rest of the model runs with `training: false`, so Dropout is off and
 *   does not inflate the variances: the statistics match the inputs the layers see at inference.
 * - The moving statistics are written only after the whole pass succeeded; on any error (empty
 *   data, a failing forward, a layer never reached, non-finite statistics) the model is left
 *   exactly as it was. Each layer's `call` is replaced only for the synchronous forward of each
 *   batch and restored in a `finally`; momentum and trainability are never touched.
 */
export async function recomputeBatchNorm(
  model: LayersModel,
  data: DataSource,
  options: RecomputeBatchNormOptions = {},
): Promise<RecomputeBatchNormResult> {
  const chosen = options.layers ?? batchNormLayers(model);
  if (options.layers === undefined && Array.isArray(chosen) && chosen.length === 0) {
    throw new InvalidArgumentError(
      'model',
      model,
      `a model with batch-norm layers: '${model.name}' has no BatchNormalization layer, so there are no statistics to recompute (pass layers: [] to make that a no-op)`,
    );
  }
  if (!Array.isArray(chosen) || !chosen.every((l) => l && isBatchNormLayer(l))) {
    throw new InvalidArgumentError(
      'options.layers',
      chosen,
      'an array of BatchNormalization layers',
    );
  }
  const layers = chosen.map((layer) => {
    if (!hasInternals(layer))
      throw new BatchNormInternalsError(layer.name, missingInternals(layer));
    return layer;
  });
  const forward = options.forward ?? defaultForward;
  const unbiased = options.variance === 'unbiased';
  if (layers.length === 0) return { layers: 0, examples: 0, batches: 0 };
  const moments = layers.map(() => new ChannelMoments());
  let examples = 0;
  let batches = 0;
  try {
    for await (const batch of iterateBatches(data, {
      batchSize: options.batchSize ?? 32,
      argument: 'data',
    })) {
      try {
        if (batch.size === 0) continue;
        runWithBatchStatistics(layers, moments, () => {
          tf.tidy(() => {
            forward(model, batch.xs);
          });
        });
        examples += batch.size;
        batches += 1;
      } finally {
        batch.dispose();
      }
    }
    if (batches === 0 || examples === 0) throw new EmptyDataError('data');
    const missed = layers.filter((_, i) => moments[i]?.count === 0).map((l) => l.name);
    if (missed.length > 0) throw new BatchNormNotReachedError(missed);
    const stats = tf.tidy(() => moments.map((m) => m.statistics(unbiased)));
    try {
      const i = await firstNonFinite(stats.flatMap((s) => [s.mean, s.variance]));
      if (i >= 0) {
        const name = layers[Math.floor(i / 2)]?.name;
        throw new NonFiniteError(`recomputeBatchNorm: the statistics of layer '${name}'`);
      }
      layers.forEach((layer, i) => {
        const s = stats[i] as { mean: tf.Tensor; variance: tf.Tensor };
        layer.movingMean.write(s.mean);
        layer.movingVariance.write(s.variance);
      });
    } finally {
      tf.dispose(stats.flatMap((s) => [s.mean, s.variance]));
    }
    return { layers: layers.length, examples, batches };
  } finally {
    for (const m of moments) m.dispose();
  }
}

function runWithBatchStatistics(
  layers: BatchNormInternals[],
  moments: ChannelMoments[],
  run: () => void,
): void {
  const saved = layers.map((layer) => ({
    own: Object.hasOwn(layer, 'call'),
    call: layer.call,
  }));
  try {
    layers.forEach((layer, i) => {
      layer.call = batchStatisticsCall(layer, moments[i] as ChannelMoments);
    });
    run();
  } finally {
    layers.forEach((layer, i) => {
      const s = saved[i] as { own: boolean; call: BatchNormInternals['call'] };
      if (s.own) layer.call = s.call;
      else delete (layer as Partial<BatchNormInternals>).call;
    });
  }
}
