import { OnerunError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';

/**
 * Training went numerically wrong: a non-finite loss or weight. The run folder keeps its last
 * good checkpoint (every checkpoint is checked first), so nothing saved is lost.
 */
export class DivergenceError extends OnerunError {
  /** The update (1-based count of optimizer updates) at which the problem was seen. */
  readonly step: number;

  constructor(step: number, what: string, lr: number, peakLr: number, lastGoodEpoch: number) {
    super(
      'DIVERGED',
      `Training diverged at update ${step}: ${what}. The learning rate is the likely cause ` +
        `(--lr ${peakLr}; this update used ${lr}); expected finite losses and weights. ` +
        (lastGoodEpoch > 0
          ? `The run folder keeps its last good checkpoint (after epoch ${lastGoodEpoch}); `
          : 'No checkpoint was saved; ') +
        'start over with a lower --lr (and --force).',
    );
    this.step = step;
  }
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/** The sum of all weights of `model` as a `[1]` tensor: not finite when any weight is not. */
export function weightSum(model: tf.LayersModel): tf.Tensor1D {
  return tf.tidy(() => tf.addN(model.weights.map((w) => tf.sum(w.read()))).reshape([1]));
}

/** Whether every weight of `model` is finite (one small read-back: the sum of all weights). */
export async function weightsAreFinite(model: tf.LayersModel): Promise<boolean> {
  const total = weightSum(model);
  const [value] = await total.data();
  total.dispose();
  return Number.isFinite(value!);
}
