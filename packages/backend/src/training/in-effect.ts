import * as tf from '@tensorflow/tfjs-core';
import { type FusedTrainingFlags, fusedTrainingFlags } from './flags.js';
import { BATCH_NORM_TRAINING, CATEGORICAL_CROSSENTROPY, DENSE, RELU_GRAD } from './kernel-names.js';

type Path = keyof FusedTrainingFlags;

/** The kernel a fused path needs on a backend. */
function kernelOf(path: Path): string {
  switch (path) {
    case 'batchNorm':
      return BATCH_NORM_TRAINING;
    case 'reluGrad':
      return RELU_GRAD;
    case 'dense':
      return DENSE;
    case 'crossEntropy':
      return CATEGORICAL_CROSSENTROPY;
  }
}

/** Whether a fused path is turned on and has its kernel on a backend (default: the active one). */
export function fusedPathInEffect(path: Path, backend: string = tf.getBackend()): boolean {
  return fusedTrainingFlags()[path] && tf.getKernel(kernelOf(path), backend) !== undefined;
}

/**
 * The fused training paths in effect on a backend (default: the active one): turned on (see
 * `setFusedTraining`) and with their kernels registered there — on wasm, say, `dense` and
 * `crossEntropy` only. For logs and run records.
 */
export function fusedTrainingInEffect(backend: string = tf.getBackend()): Path[] {
  return (Object.keys(fusedTrainingFlags()) as Path[]).filter((path) =>
    fusedPathInEffect(path, backend),
  );
}
