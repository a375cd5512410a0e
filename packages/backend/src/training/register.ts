import type { KernelFunc } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  batchNormTrainingGradConfig,
  compositeBatchNormTraining,
  compositeBatchNormTrainingGrad,
} from './batch-norm-kernels.js';
import { patchBatchNormLayer } from './batch-norm-layer.js';
import { MOMENTUM_UPDATE, patchMomentumOptimizer } from './momentum.js';
import {
  nativeBatchNormTraining,
  nativeBatchNormTrainingGrad,
  nativeMomentumUpdate,
  nativeReluGrad,
} from './native-kernels.js';
import { overrideReluGradient, RELU_GRAD } from './relu-grad.js';

/** What {@link registerFusedTraining} did. */
export interface FusedTrainingRegistration {
  /** The tfjs backend the kernels were registered for. */
  backend: string;
  /** Kernels registered by this call (none when they already were: the call is idempotent). */
  registered: string[];
  /** Whether tfjs-layers' `BatchNormalization` routes training calls through the fused kernel. */
  batchNormLayerPatched: boolean;
  /** Whether tfjs-core's `MomentumOptimizer` routes its updates through the fused kernel. */
  momentumOptimizerPatched: boolean;
}

/** The kernels of each fused path, per backend. The cpu backend gets them only when asked. */
function kernelsFor(backend: string): [string, KernelFunc][] {
  if (backend === 'tensorflow') {
    return [
      [BATCH_NORM_TRAINING, nativeBatchNormTraining],
      [BATCH_NORM_TRAINING_GRAD, nativeBatchNormTrainingGrad],
      [RELU_GRAD, nativeReluGrad],
      [MOMENTUM_UPDATE, nativeMomentumUpdate],
    ];
  }
  return [
    [BATCH_NORM_TRAINING, compositeBatchNormTraining],
    [BATCH_NORM_TRAINING_GRAD, compositeBatchNormTrainingGrad],
  ];
}

/**
 * Registers the fused training kernels for one tfjs backend (default: the active one) and hooks
 * them in: tfjs-layers' `BatchNormalization` training call, tfjs-core's `Relu` gradient and its
 * `MomentumOptimizer` update use them on backends that have them (`selectBackend` does this for
 * the native backend). On the native `tensorflow` backend they are TensorFlow's own fused ops
 * (`FusedBatchNormV3`, `FusedBatchNormGradV2`, `ReluGrad`) and the momentum update as one kernel;
 * elsewhere only the batch norm kernels exist, composed of a few tfjs ops. Each path can be turned off at any time with `setFusedTraining` or
 * `ONERUN_FUSED_TRAINING`. Import tfjs-layers (or `@tensorflow/tfjs`) first, so that its
 * `BatchNormalization` class is registered; idempotent.
 */
export function registerFusedTraining(
  backend: string = tf.getBackend(),
): FusedTrainingRegistration {
  const registered: string[] = [];
  for (const [kernelName, kernelFunc] of kernelsFor(backend)) {
    if (tf.getKernel(kernelName, backend) !== undefined) continue;
    tf.registerKernel({ kernelName, backendName: backend, kernelFunc });
    registered.push(kernelName);
  }
  if (tf.getGradient(BATCH_NORM_TRAINING) === undefined) {
    tf.registerGradient(batchNormTrainingGradConfig);
  }
  overrideReluGradient();
  return {
    backend,
    registered,
    batchNormLayerPatched: patchBatchNormLayer(),
    momentumOptimizerPatched: patchMomentumOptimizer(),
  };
}
