import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { onlyTensor, patchRegisteredClass, unpatchRegisteredClass } from './class-patch.js';
import { fusedPathInEffect } from './in-effect.js';
import { BATCH_NORM_TRAINING } from './kernel-names.js';

/** The members of tfjs-layers' `LayerVariable` used here. */
interface LayerVariableLike {
  read(): Tensor;
  write(value: Tensor): void;
}

/** The members of tfjs-layers' `BatchNormalization` layer used here. */
interface BatchNormLayerLike {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariableLike;
  beta?: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

type Call = (
  this: BatchNormLayerLike,
  inputs: Tensor | Tensor[],
  kwargs: Record<string, unknown>,
) => Tensor;

const PATCHED = Symbol.for('@onerun/backend/fused-batch-norm-call');

/** The moving-average update of tfjs-layers, op for op: `v ← v − (v − value)·(1 − momentum)`. */
function movingAverage(variable: LayerVariableLike, value: Tensor, momentum: number): void {
  tf.tidy(() => {
    const original = variable.read();
    variable.write(tf.sub(original, tf.mul(tf.sub(original, value), 1 - momentum)));
  });
}

/** Whether this call can take the fused kernel; otherwise the stock call runs. */
function fusable(layer: BatchNormLayerLike, x: Tensor | undefined): x is Tensor {
  if (x === undefined || x.dtype !== 'float32' || x.rank < 2) return false;
  if (layer.axis !== -1 && layer.axis !== x.rank - 1) return false;
  if (layer.gamma === undefined || layer.beta === undefined) return false;
  if (!fusedPathInEffect('batchNorm')) return false;
  // tfjs-node-gpu's fused batch norm (cuDNN) keeps the inverse variance: not verified here.
  return (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice !== true;
}

/**
 * Routes the training-mode call of every tfjs-layers `BatchNormalization` layer (channels last,
 * with scale and center, float32) through {@link BATCH_NORM_TRAINING} on backends that have that
 * kernel, while the `batchNorm` flag is on; everything else (inference, other layouts, other
 * backends) runs tfjs-layers' own code. The moving averages are updated exactly as tfjs-layers
 * does. Idempotent; returns false if tfjs-layers has not registered the layer (not loaded yet).
 */
export function patchBatchNormLayer(): boolean {
  return patchRegisteredClass<Call>(
    'BatchNormalization',
    'call',
    PATCHED,
    (stock) =>
      function (this: BatchNormLayerLike, inputs, kwargs) {
        const x = onlyTensor(inputs);
        if (kwargs?.training !== true || !fusable(this, x)) return stock.call(this, inputs, kwargs);
        return tf.tidy(() => {
          const gamma = (this.gamma as LayerVariableLike).read();
          const beta = (this.beta as LayerVariableLike).read();
          const [y, mean, variance] = tf.engine().runKernel(
            BATCH_NORM_TRAINING,
            { x, scale: gamma, offset: beta },
            {
              epsilon: this.epsilon,
            },
          ) as Tensor[];
          movingAverage(this.movingMean, mean as Tensor, this.momentum);
          movingAverage(this.movingVariance, variance as Tensor, this.momentum);
          return y as Tensor;
        });
      },
  );
}

/** Undoes {@link patchBatchNormLayer}: tfjs-layers' own `BatchNormalization.call` again. Returns whether it was patched. */
export function unpatchBatchNormLayer(): boolean {
  return unpatchRegisteredClass('BatchNormalization', 'call', PATCHED);
}
