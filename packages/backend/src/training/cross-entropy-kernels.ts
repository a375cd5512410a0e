import type { GradConfig, KernelFunc, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import {
  CATEGORICAL_CROSSENTROPY,
  CATEGORICAL_CROSSENTROPY_GRAD,
  type CrossEntropyAttrs,
} from './kernel-names.js';

/** The normalized, clipped probabilities `clip(p/Σp, ε, 1 − ε)`, and `Σp` (classes last). */
function clipped(probs: Tensor, epsilon: number): { q: Tensor; c: Tensor; total: Tensor } {
  const total = tf.sum(probs, -1, true);
  const q = tf.div(probs, total);
  return { q, c: tf.clipByValue(q, epsilon, 1 - epsilon), total };
}

/** The per-example cross-entropy from tfjs ops: tfjs-layers' formula, op for op. */
export function crossEntropyFromOps(target: Tensor, probs: Tensor, epsilon: number): Tensor {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(target, tf.log(clipped(probs, epsilon).c)), -1)));
}

/** The forward kernel from tfjs ops, for any backend. */
export const compositeCrossEntropy: KernelFunc = ({ inputs, attrs }) => {
  const { target, probs } = inputs as { target: Tensor; probs: Tensor };
  const { epsilon } = kernelAttrs<CrossEntropyAttrs>(attrs);
  return crossEntropyFromOps(target, probs, epsilon);
};

/**
 * The backward kernel from tfjs ops, for any backend. With q = p/Σp, c = clip(q) and
 * h = target/c · dy · [ε ≤ q ≤ 1 − ε] (the clip passes gradients where it is the identity):
 * `dp = (Σ h·q − h) / Σp`, the chain rule through the normalization.
 */
export const compositeCrossEntropyGrad: KernelFunc = ({ inputs, attrs }) => {
  const { dy, target, probs } = inputs as { dy: Tensor; target: Tensor; probs: Tensor };
  const { epsilon } = kernelAttrs<CrossEntropyAttrs>(attrs);
  return tf.tidy(() => {
    const { q, c, total } = clipped(probs, epsilon);
    const inside = tf.cast(tf.equal(c, q), 'float32');
    const h = tf.mul(tf.mul(tf.div(target, c), tf.expandDims(dy, -1)), inside);
    return tf.div(tf.sub(tf.sum(tf.mul(h, q), -1, true), h), total);
  });
};

/**
 * The gradient of {@link CATEGORICAL_CROSSENTROPY}: one kernel for `probs`; the target's
 * (`−dy·log c`, for the rare graph that differentiates through its labels) from tfjs ops.
 */
export const crossEntropyGradConfig: GradConfig = {
  kernelName: CATEGORICAL_CROSSENTROPY,
  inputsToSave: ['target', 'probs'],
  gradFunc: (dy, saved, attrs) => {
    const [target, probs] = saved as [Tensor, Tensor];
    const { epsilon } = kernelAttrs<CrossEntropyAttrs>(attrs);
    return {
      probs: () =>
        tf
          .engine()
          .runKernel(
            CATEGORICAL_CROSSENTROPY_GRAD,
            { dy: dy as Tensor, target, probs },
            attrs as NamedAttrMap,
          ) as Tensor,
      target: () =>
        tf.neg(tf.mul(tf.expandDims(dy as Tensor, -1), tf.log(clipped(probs, epsilon).c))),
    };
  },
};
