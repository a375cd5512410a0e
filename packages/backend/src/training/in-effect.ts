import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING } from './batch-norm-kernels.js';
import { CATEGORICAL_CROSSENTROPY } from './cross-entropy-kernels.js';
import { DENSE } from './dense-kernels.js';
import { type FusedTrainingFlags, fusedTrainingFlags } from './flags.js';
import { RELU_GRAD } from './relu-grad.js';

type Path = keyof FusedTrainingFlags;

/** The kernel a fused path needs on a backend (looked up when asked: these modules import this one). */
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
