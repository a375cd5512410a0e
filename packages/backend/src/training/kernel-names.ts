import type { NamedAttrMap } from '@tensorflow/tfjs-core';

// The names and attributes of onerun's fused training kernels. This module imports nothing of
// its package, so that every module that runs, registers or checks a kernel can name it without
// an import circle.

/**
 * Batch normalization in training mode, as one kernel: inputs `x` (channels last), `scale`,
 * `offset`; attr `epsilon`; outputs `[y, mean, variance]` (the batch's mean and biased variance
 * per channel, what the layer's moving averages take).
 */
export const BATCH_NORM_TRAINING = 'OnerunBatchNormTraining';

/**
 * Its gradient: inputs `dy, x, scale, mean, variance` (the forward's outputs), attr `epsilon`;
 * outputs `[dx, dScale, dOffset]`.
 */
export const BATCH_NORM_TRAINING_GRAD = 'OnerunBatchNormTrainingGrad';

/** Attributes of both batch-norm kernels. */
export interface BatchNormTrainingAttrs extends NamedAttrMap {
  epsilon: number;
}

/**
 * A dense layer's product on rank-2 operands, as one kernel: inputs `x` [batch, in], `kernel`
 * [in, out] and optional `bias` [out]; attr `activation` (`linear` or `relu`); output
 * `activation(x·kernel + bias)`.
 */
export const DENSE = 'OnerunDense';

/** The activations {@link DENSE} applies itself; any other runs after it, as its own op. */
export const DENSE_ACTIVATIONS = ['linear', 'relu'] as const;

/** Attributes of {@link DENSE}. */
export interface DenseAttrs extends NamedAttrMap {
  activation: (typeof DENSE_ACTIVATIONS)[number];
}

/** The fused ReLU gradient kernel: inputs `dy, x`; output `dy · (x > 0)`. */
export const RELU_GRAD = 'OnerunReluGrad';

/**
 * Categorical cross-entropy of probabilities, per example, as one kernel: inputs `target` and
 * `probs` (float32, classes last), attr `epsilon`; output `−Σ target·log(clip(probs/Σprobs, ε,
 * 1 − ε))` over the last axis: tfjs-layers' `categoricalCrossentropy`, op for op.
 */
export const CATEGORICAL_CROSSENTROPY = 'OnerunCategoricalCrossentropy';

/** Its gradient with respect to `probs`: inputs `dy` (per example), `target`, `probs`. */
export const CATEGORICAL_CROSSENTROPY_GRAD = 'OnerunCategoricalCrossentropyGrad';

/** Attributes of both cross-entropy kernels. */
export interface CrossEntropyAttrs extends NamedAttrMap {
  epsilon: number;
}
