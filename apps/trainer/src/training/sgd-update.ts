import { categoricalCrossentropy } from '@onerun/backend';
import * as tf from '@tensorflow/tfjs';

/** One SGD update on a batch, and the disposal of what it holds. */
export interface SgdUpdate {
  /** Updates the weights on `(x, y)` and returns the batch's cross-entropy. */
  step(x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  dispose(): void;
}

/**
 * One SGD update on a batch: cross-entropy of the softmax outputs (tfjs-layers' formula, as
 * `@onerun/backend`'s fused kernel where the backend has it) plus `weightDecay/2·Σ‖W‖²` over the
 * kernels (not batch-norm parameters or biases). Returns the batch's cross-entropy.
 */
export function sgdUpdate(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  weightDecay: number,
): SgdUpdate {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernels = model.trainableWeights
    .filter((w) => /kernel/.test(w.originalName ?? w.name))
    .map((w) => w.read());
  const decay = tf.scalar(weightDecay / 2);
  const step = (x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      let ce: tf.Scalar | undefined;
      const cost = optimizer.minimize(
        () => {
          const p = model.apply(x, { training: true }) as tf.Tensor;
          ce = tf.keep(tf.mean(categoricalCrossentropy(y, p)) as tf.Scalar);
          if (weightDecay === 0) return ce;
          return tf.add(ce, tf.mul(decay, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))));
        },
        true,
        variables,
      );
      if (cost && cost !== ce) cost.dispose();
      return ce as tf.Scalar;
    });
  return { step, dispose: () => decay.dispose() };
}
