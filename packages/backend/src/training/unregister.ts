import * as tf from '@tensorflow/tfjs-core';
import { unpatchBatchNormLayer } from './batch-norm-layer.js';
import { unpatchCompiledCrossEntropy } from './cross-entropy-loss.js';
import { unpatchDenseLayer } from './dense-layer.js';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  CATEGORICAL_CROSSENTROPY,
  CATEGORICAL_CROSSENTROPY_GRAD,
  DENSE,
  RELU_GRAD,
} from './kernel-names.js';
import { restoreReluGradient } from './relu-grad.js';

const KERNELS = [
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  CATEGORICAL_CROSSENTROPY,
  CATEGORICAL_CROSSENTROPY_GRAD,
  DENSE,
  RELU_GRAD,
];

/** Kernels with a gradient of ours; the gradient kernels themselves have none. */
const GRADIENTS = [BATCH_NORM_TRAINING, CATEGORICAL_CROSSENTROPY, DENSE];

/** What {@link unregisterFusedTraining} undid. */
export interface FusedTrainingUnregistration {
  /** `kernel@backend` of every fused kernel removed. */
  kernels: string[];
  /** Gradients removed (of the fused kernels). */
  gradients: string[];
  /** Whether tfjs-core's own `Relu` gradient was put back. */
  reluGradientRestored: boolean;
  /** tfjs-layers methods put back, as `Class.method`. */
  methods: string[];
}

/**
 * Undoes `registerFusedTraining` on every backend: removes the fused kernels and their
 * gradients, puts back tfjs-core's own `Relu` gradient and tfjs-layers' own `Dense.call`,
 * `BatchNormalization.call` and `Model.compile` (the very functions that were there). tfjs then
 * behaves as stock: the same numbers, and the same methods and gradient by identity. Models
 * compiled while it was registered keep a wrapped loss, which runs tfjs-layers' own function
 * once the fused kernel is gone. Safe to call when nothing is registered.
 */
export function unregisterFusedTraining(): FusedTrainingUnregistration {
  const kernels: string[] = [];
  for (const backend of Object.keys(tf.engine().registryFactory)) {
    for (const name of KERNELS) {
      if (tf.getKernel(name, backend) === undefined) continue;
      tf.unregisterKernel(name, backend);
      kernels.push(`${name}@${backend}`);
    }
  }
  const gradients = GRADIENTS.filter((name) => tf.getGradient(name) !== undefined);
  for (const name of gradients) tf.unregisterGradient(name);
  const methods = (
    [
      ['Dense.call', unpatchDenseLayer],
      ['BatchNormalization.call', unpatchBatchNormLayer],
      ['Model.compile', unpatchCompiledCrossEntropy],
    ] as const
  )
    .filter(([, undo]) => undo())
    .map(([name]) => name);
  return { kernels, gradients, reluGradientRestored: restoreReluGradient(), methods };
}
