import { PROBABILITY_EPSILON } from '@onerun/ensemble';
import type * as tf from '@tensorflow/tfjs';

/**
 * A model's score on each test example, in test-set order: whether its most probable class (the
 * lowest index on ties) is the true one, and `−log max(p(true class), 1e-12)` in nats. Their means
 * are the accuracy and NLL `@onerun/ensemble` reports; the paired bootstrap resamples them.
 */
export interface ExampleScores {
  correct: number[];
  nll: number[];
}

/** The per-example scores of `probs` (`[n, classes]` probabilities) against class indices. */
export async function exampleScores(probs: tf.Tensor, labels: Int32Array): Promise<ExampleScores> {
  const [n = 0, classes = 0] = probs.shape;
  const data = await probs.data();
  const correct: number[] = new Array(n);
  const nll: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[row + c]! > data[row + best]!) best = c;
    const y = labels[i]!;
    correct[i] = best === y ? 1 : 0;
    nll[i] = -Math.log(Math.max(data[row + y]!, PROBABILITY_EPSILON));
  }
  return { correct, nll };
}
