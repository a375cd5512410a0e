import { type Inputs, InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * A loss between targets and predictions, per example (shape `[batch]`) or already reduced; its
 * mean is taken. E.g. `tf.losses.softmaxCrossEntropy` or a function of your own.
 */
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The per-output loss functions to use: the given one for every output, else the compiled ones. */
export function lossFunctions(model: LayersModel, loss: LossFn | undefined): LossFn[] {
  const outputs = model.outputs.length;
  if (loss !== undefined) {
    if (typeof loss !== 'function') {
      throw new InvalidArgumentError('loss', loss, 'a function (yTrue, yPred) => tensor');
    }
    return Array.from({ length: outputs }, () => loss);
  }
  // A Sequential keeps its compiled state on the functional model it wraps.
  type Compiled = { lossFunctions?: LossFn[]; model?: Compiled };
  const holder = model as unknown as Compiled;
  const compiled = holder.lossFunctions ?? holder.model?.lossFunctions;
  if (!Array.isArray(compiled) || compiled.length !== outputs) {
    throw new InvalidArgumentError(
      'loss',
      loss,
      'a loss function, or a model compiled with a loss (model.compile({ loss, optimizer }))',
    );
  }
  return compiled;
}

function asList(x: Inputs | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(x) ? x : [x];
}

/**
 * Mean loss of `predictions` against `targets`, summed over outputs as `model.fit` does. Call
 * inside a tidy scope.
 */
export function meanLoss(
  fns: readonly LossFn[],
  targets: Inputs | undefined,
  predictions: tf.Tensor | tf.Tensor[],
): tf.Scalar {
  if (targets === undefined) {
    throw new InvalidArgumentError(
      'data',
      undefined,
      'batches with targets (ys) to measure a loss',
    );
  }
  const ys = asList(targets);
  const ps = asList(predictions);
  if (ys.length !== ps.length || ps.length !== fns.length) {
    throw new InvalidArgumentError(
      'data.ys',
      ys,
      `${ps.length} target tensor(s), one per model output`,
    );
  }
  let total: tf.Scalar | undefined;
  fns.forEach((fn, i) => {
    const l = tf.mean(fn(ys[i]!, ps[i]!)) as tf.Scalar;
    total = total === undefined ? l : (tf.add(total, l) as tf.Scalar);
  });
  return total!;
}

/**
 * Per-example classification error (1 = wrong, 0 = right) of one output: argmax against one-hot
 * targets or integer labels; for a single-unit output, a 0.5 threshold against 0/1 targets.
 */
export function classificationError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const units = yPred.shape[yPred.rank - 1] ?? 1;
  if (yPred.rank === 1 || units === 1) {
    const p = tf.greater(tf.reshape(yPred, [-1]), 0.5);
    const y = tf.greater(tf.reshape(yTrue, [-1]), 0.5);
    return tf.cast(tf.notEqual(p, y), 'float32');
  }
  const predicted = tf.argMax(yPred, -1);
  const actual =
    yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === units
      ? tf.argMax(yTrue, -1)
      : tf.cast(tf.reshape(yTrue, predicted.shape), 'int32');
  return tf.cast(tf.notEqual(predicted, actual), 'float32');
}
