import type {
  GradConfig,
  KernelFunc,
  NamedAttrMap,
  Tensor,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  type BatchNormTrainingAttrs,
} from './kernel-names.js';

const leadingAxes = (rank: number) => Array.from({ length: rank - 1 }, (_, i) => i);

/**
 * The forward kernel from tfjs ops, for any backend: mean, biased variance, and
 * `(x − mean) · (scale / √(variance + ε)) + offset`. Its nested ops run without a tape.
 */
export const compositeBatchNormTraining: KernelFunc = ({ inputs, attrs }) => {
  const { x, scale, offset } = inputs as { x: Tensor; scale: Tensor; offset: Tensor };
  const { epsilon } = kernelAttrs<BatchNormTrainingAttrs>(attrs);
  const axes = leadingAxes(x.rank);
  return tf.tidy(() => {
    const mean = tf.mean(x, axes);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axes);
    const factor = tf.mul(tf.rsqrt(tf.add(variance, epsilon)), scale);
    return [tf.add(tf.mul(centered, factor), offset), mean, variance];
  }) as TensorInfo[];
};

/**
 * The backward kernel from tfjs ops, for any backend: with x̂ = (x − mean)/√(variance + ε),
 * `dOffset = Σ dy`, `dScale = Σ dy·x̂`, `dx = scale/√(variance + ε) · (dy − (dOffset + x̂·dScale)/n)`.
 */
export const compositeBatchNormTrainingGrad: KernelFunc = ({ inputs, attrs }) => {
  const { dy, x, scale, mean, variance } = inputs as Record<string, Tensor>;
  const { epsilon } = kernelAttrs<BatchNormTrainingAttrs>(attrs);
  const d = x as Tensor;
  const axes = leadingAxes(d.rank);
  const n = d.size / (d.shape.at(-1) ?? 1);
  return tf.tidy(() => {
    const invStd = tf.rsqrt(tf.add(variance as Tensor, epsilon));
    const xHat = tf.mul(tf.sub(d, mean as Tensor), invStd);
    const dOffset = tf.sum(dy as Tensor, axes);
    const dScale = tf.sum(tf.mul(dy as Tensor, xHat), axes);
    const k = tf.mul(scale as Tensor, invStd);
    const inner = tf.sub(tf.sub(dy as Tensor, tf.mul(xHat, tf.div(dScale, n))), tf.div(dOffset, n));
    return [tf.mul(inner, k), dScale, dOffset];
  }) as TensorInfo[];
};

/**
 * The gradient of {@link BATCH_NORM_TRAINING} with respect to `x`, `scale` and `offset` through
 * `y`. The mean and variance outputs are treated as constants: the layer feeds them only to its
 * moving averages, whose variables end the tape (an assignment is not an op), so no gradient can
 * reach them from a loss. (The engine hands zero tensors for them; adding their terms would cost
 * five full-size passes per layer for nothing.)
 */
export const batchNormTrainingGradConfig: GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy] = dys as Tensor[];
    const [x, scale, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor];
    const [dx, dScale, dOffset] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy: dy as Tensor, x, scale, mean, variance },
        attrs as NamedAttrMap,
      ) as Tensor[];
    return {
      x: () => dx as Tensor,
      scale: () => dScale as Tensor,
      offset: () => dOffset as Tensor,
    };
  },
};
