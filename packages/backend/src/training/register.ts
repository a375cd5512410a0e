import type { KernelFunc } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import {
  batchNormTrainingGradConfig,
  compositeBatchNormTraining,
  compositeBatchNormTrainingGrad,
} from './batch-norm-kernels.js';
import { patchBatchNormLayer } from './batch-norm-layer.js';
import {
  compositeCrossEntropy,
  compositeCrossEntropyGrad,
  crossEntropyGradConfig,
} from './cross-entropy-kernels.js';
import { patchCompiledCrossEntropy } from './cross-entropy-loss.js';
import { compositeDense, denseGradConfig } from './dense-kernels.js';
import { patchDenseLayer } from './dense-layer.js';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  CATEGORICAL_CROSSENTROPY,
  CATEGORICAL_CROSSENTROPY_GRAD,
  DENSE,
  RELU_GRAD,
} from './kernel-names.js';
import {
  nativeBatchNormTraining,
  nativeBatchNormTrainingGrad,
  nativeCrossEntropy,
  nativeCrossEntropyGrad,
  nativeDense,
  nativeReluGrad,
} from './native-kernels.js';
import { overrideReluGradient } from './relu-grad.js';
import { assertTestedTfjs, loadedTfjsVersions, type TfjsVersions } from './tfjs-version.js';

/** Options of {@link registerFusedTraining}. */
export interface RegisterFusedTrainingOptions {
  /**
   * Register even when the loaded tfjs is not the tested release line (4.22.x). The fused paths
   * replace tfjs internals; on another version they may break or give other numbers.
   */
  allowUntestedTfjs?: boolean;
  /** Internal / testing: the tfjs versions to check (default: the ones loaded). */
  tfjsVersions?: TfjsVersions;
}

/** What {@link registerFusedTraining} did. */
export interface FusedTrainingRegistration {
  /** The tfjs backend the kernels were registered for. */
  backend: string;
  /** Kernels registered by this call (none when they already were: the call is idempotent). */
  registered: string[];
  /** Whether tfjs-layers' `BatchNormalization` routes training calls through the fused kernel. */
  batchNormLayerPatched: boolean;
  /** Whether tfjs-layers' `Dense` routes training calls through the fused kernel. */
  denseLayerPatched: boolean;
  /** Whether models compiled with `'categoricalCrossentropy'` use the fused loss. */
  compiledCrossEntropyPatched: boolean;
}

/** The kernels of each fused path, per backend. The cpu backend gets them only when asked. */
function kernelsFor(backend: string): [string, KernelFunc][] {
  if (backend === 'tensorflow') {
    return [
      [BATCH_NORM_TRAINING, nativeBatchNormTraining],
      [BATCH_NORM_TRAINING_GRAD, nativeBatchNormTrainingGrad],
      [RELU_GRAD, nativeReluGrad],
      [DENSE, nativeDense],
      [CATEGORICAL_CROSSENTROPY, nativeCrossEntropy],
      [CATEGORICAL_CROSSENTROPY_GRAD, nativeCrossEntropyGrad],
    ];
  }
  const composed: [string, KernelFunc][] = [
    [DENSE, compositeDense],
    [CATEGORICAL_CROSSENTROPY, compositeCrossEntropy],
    [CATEGORICAL_CROSSENTROPY_GRAD, compositeCrossEntropyGrad],
  ];
  // wasm's own batch norm beat the composed kernels in a probe.
  if (backend === 'wasm') return composed;
  return [
    ...composed,
    [BATCH_NORM_TRAINING, compositeBatchNormTraining],
    [BATCH_NORM_TRAINING_GRAD, compositeBatchNormTrainingGrad],
  ];
}

/**
 * Registers the fused training kernels for one tfjs backend (default: the active one) and hooks
 * them in: tfjs-layers' `BatchNormalization` and `Dense` training calls, tfjs-core's `Relu`
 * gradient and models compiled with `'categoricalCrossentropy'` use them on backends that have them
 * (`selectBackend` does this for the native backend and wasm). On the native `tensorflow` backend
 * they are TensorFlow's own ops (`FusedBatchNormV3`, `FusedBatchNormGradV2`, `ReluGrad`,
 * `MatMul` + `BiasAdd` + `Relu`, the cross-entropy's ops); on wasm the dense and cross-entropy
 * kernels composed of tfjs ops (what they buy there: a dense gradient without reshapes that skips
 * the products no variable needs, fewer kernels); elsewhere those and the batch norm kernels,
 * composed of tfjs ops.
 * Each path can be turned off at any time with `setFusedTraining` or `ONERUN_FUSED_TRAINING`.
 * Import tfjs-layers (or `@tensorflow/tfjs`) first, so that its layer classes are registered;
 * idempotent. `unregisterFusedTraining` undoes it all.
 *
 * The hooks replace tfjs internals, so a tfjs other than the tested 4.22.x is refused with
 * `UntestedTfjsVersionError` unless `allowUntestedTfjs` is set.
 */
export function registerFusedTraining(
  backend: string = tf.getBackend(),
  options: RegisterFusedTrainingOptions = {},
): FusedTrainingRegistration {
  if (options.allowUntestedTfjs !== true) {
    assertTestedTfjs(options.tfjsVersions ?? loadedTfjsVersions());
  }
  const registered: string[] = [];
  for (const [kernelName, kernelFunc] of kernelsFor(backend)) {
    if (tf.getKernel(kernelName, backend) !== undefined) continue;
    tf.registerKernel({ kernelName, backendName: backend, kernelFunc });
    registered.push(kernelName);
  }
  if (tf.getGradient(BATCH_NORM_TRAINING) === undefined) {
    tf.registerGradient(batchNormTrainingGradConfig);
  }
  if (tf.getGradient(DENSE) === undefined) tf.registerGradient(denseGradConfig);
  if (tf.getGradient(CATEGORICAL_CROSSENTROPY) === undefined) {
    tf.registerGradient(crossEntropyGradConfig);
  }
  overrideReluGradient();
  return {
    backend,
    registered,
    batchNormLayerPatched: patchBatchNormLayer(),
    denseLayerPatched: patchDenseLayer(),
    compiledCrossEntropyPatched: patchCompiledCrossEntropy(),
  };
}
