import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/load.js';

/** Cross-entropy and accuracy of a model on a split. */
export interface SplitScore {
  loss: number;
  accuracy: number;
}

/**
 * Mean cross-entropy and accuracy of `model` (softmax outputs) on `split`, in inference mode,
 * batch by batch; one read-back at the end.
 */
export async function scoreSplit(
  model: tf.LayersModel,
  split: Split,
  batchSize = 512,
): Promise<SplitScore> {
  let sums = tf.zeros([2]);
  for (let begin = 0; begin < split.size; begin += batchSize) {
    const size = Math.min(batchSize, split.size - begin);
    const next = tf.tidy(() => {
      const { xs: x, ys: y } = split.range(begin, size);
      const p = model.predict(x) as tf.Tensor2D;
      const ce = tf.sum(tf.metrics.categoricalCrossentropy(y, p));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32'));
      return tf.add(sums, tf.stack([ce, hits]));
    });
    sums.dispose();
    sums = next;
  }
  const [ce, hits] = await sums.data();
  sums.dispose();
  return { loss: ce! / split.size, accuracy: hits! / split.size };
}
