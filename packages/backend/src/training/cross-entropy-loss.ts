import { InvalidArgumentError } from '@onerun/core';
import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { patchRegisteredClass, unpatchRegisteredClass } from './class-patch.js';
import { crossEntropyFromOps } from './cross-entropy-kernels.js';
import { fusedPathInEffect } from './in-effect.js';
import { CATEGORICAL_CROSSENTROPY } from './kernel-names.js';

function fusable(target: Tensor, probs: Tensor): boolean {
  if (target.dtype !== 'float32' || probs.dtype !== 'float32' || probs.rank < 1) return false;
  if (!tf.util.arraysEqual(target.shape, probs.shape)) return false;
  return fusedPathInEffect('crossEntropy');
}

/**
 * Categorical cross-entropy of predicted probabilities (classes last), per example:
 * tfjs-layers' `categoricalCrossentropy` (`tf.metrics.categoricalCrossentropy`), the same formula
 * — probabilities normalized to sum 1, clipped to [ε, 1 − ε], ε the backend's epsilon — as one
 * kernel forward and one backward where the active backend has them and the `crossEntropy` flag
 * is on, and as tfjs ops otherwise. A training loop of its own can call it in place of tfjs's.
 * `target` and `probs` must have the same shape (`InvalidArgumentError` otherwise; tfjs would
 * broadcast).
 */
export function categoricalCrossentropy(target: Tensor, probs: Tensor): Tensor {
  if (!tf.util.arraysEqual(target.shape, probs.shape)) {
    throw new InvalidArgumentError(
      'target',
      `a tensor of shape [${target.shape}]`,
      `the shape of probs, [${probs.shape}] (one row of class weights per prediction)`,
    );
  }
  const epsilon = tf.backend().epsilon();
  if (!fusable(target, probs)) {
    return tf.tidy(() => crossEntropyFromOps(tf.cast(target, 'float32'), probs, epsilon));
  }
  return tf.engine().runKernel(CATEGORICAL_CROSSENTROPY, { target, probs }, { epsilon }) as Tensor;
}

type LossFunction = (target: Tensor, probs: Tensor) => Tensor;

/** The members of tfjs-layers' `LayersModel` used here. */
interface LayersModelLike {
  outputNames: string[];
  lossFunctions: LossFunction[];
  feedLossFns?: LossFunction[];
}

type Compile = (this: LayersModelLike, args: { loss?: unknown }) => void;

const PATCHED = Symbol.for('@onerun/backend/fused-compiled-cross-entropy');

/** For each output, whether `compile` was given the loss `'categoricalCrossentropy'` by name. */
function namedCrossEntropy(model: LayersModelLike, loss: unknown): boolean[] {
  const named = (l: unknown) => l === 'categoricalCrossentropy';
  if (typeof loss === 'string') return model.outputNames.map(() => named(loss));
  if (Array.isArray(loss)) return loss.map(named);
  if (loss !== null && typeof loss === 'object') {
    return model.outputNames.map((name) => named((loss as Record<string, unknown>)[name]));
  }
  return model.outputNames.map(() => false);
}

/**
 * Makes the loss of every tfjs-layers model compiled with `loss: 'categoricalCrossentropy'`
 * run {@link categoricalCrossentropy} (fused where it can be, tfjs-layers' own function
 * otherwise): `compile` is wrapped, and each such output's loss function replaced after it
 * ran. Models compiled before this call keep tfjs-layers' function. Idempotent; returns false if
 * tfjs-layers has not registered its model class (not loaded yet).
 */
export function patchCompiledCrossEntropy(): boolean {
  return patchRegisteredClass<Compile>(
    'Model',
    'compile',
    PATCHED,
    (stock) =>
      function (this: LayersModelLike, args) {
        stock.call(this, args);
        namedCrossEntropy(this, args.loss).forEach((named, i) => {
          const original = this.lossFunctions[i];
          if (!named || original === undefined) return;
          const fused: LossFunction = (target, probs) =>
            fusable(target, probs)
              ? categoricalCrossentropy(target, probs)
              : original(target, probs);
          this.lossFunctions[i] = fused;
          if (this.feedLossFns?.[i] === original) this.feedLossFns[i] = fused;
        });
      },
  );
}

/** Undoes {@link patchCompiledCrossEntropy}: tfjs-layers' own `Model.compile` again. Returns whether it was patched. */
export function unpatchCompiledCrossEntropy(): boolean {
  return unpatchRegisteredClass('Model', 'compile', PATCHED);
}
