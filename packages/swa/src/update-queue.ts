import { modelVariables, type WeightSelection, type WeightSpec, weightSpecs } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Folds one update in: the weights as they were at the call, and their specs. */
type FoldFn = (weights: tf.Tensor[], specs: WeightSpec[]) => Promise<void>;

/**
 * The update queue of an averager: each `enqueue` takes the model's weights at the call (clones,
 * which share the data without copying it; the optimizer replaces variables' data rather than
 * writing into it) and folds them in after every earlier update has settled, so overlapping
 * `update`s apply in call order. A failed fold rejects its own promise only.
 */
export class UpdateQueue {
  private tail: Promise<unknown> = Promise.resolve();

  async enqueue(model: LayersModel, which: WeightSelection, fold: FoldFn): Promise<void> {
    const specs = weightSpecs(model, which);
    const weights = modelVariables(model, which).map((v) => tf.clone(v.read()));
    const result = this.tail.then(() => fold(weights, specs));
    this.tail = result.catch(() => undefined);
    try {
      await result;
    } finally {
      tf.dispose(weights);
    }
  }
}
