import * as tf from '@tensorflow/tfjs';
import type { FinalMembers } from './final-members.js';

/** A run's final prediction on new examples, with its uncertainty, per example. */
export interface FinalPrediction {
  count: number;
  classes: number;
  /** Models whose probabilities are averaged (1 for a single model or SWA's average). */
  members: number;
  /** `count × classes` probabilities: the mean of the members' softmax outputs. */
  probabilities: Float64Array;
  /** Index of the most probable class of each example. */
  predicted: Int32Array;
  /** Predictive entropy `−Σ p log p` of the mean probabilities, in nats. */
  entropy: Float64Array;
  /**
   * Ensembles: mutual information between the prediction and the member (the entropy of the mean
   * minus the members' mean entropy, in nats), the part of the uncertainty that is disagreement.
   */
  mutualInformation?: Float64Array;
  /**
   * Ensembles: the fraction of member pairs whose most probable classes differ (its mean over the
   * examples is `onerun eval`'s member disagreement).
   */
  disagreement?: Float64Array;
}

function entropyOf(p: ArrayLike<number>, offset: number, classes: number): number {
  let h = 0;
  for (let c = 0; c < classes; c++) {
    const v = p[offset + c]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

function argmaxOf(p: ArrayLike<number>, offset: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[offset + c]! > p[offset + best]!) best = c;
  return best;
}

/** One member's probabilities for every example, batch by batch (no tensor outlives a batch). */
async function memberProbabilities(
  model: tf.LayersModel,
  inputs: Float32Array,
  shape: number[],
  count: number,
  batchSize: number,
): Promise<{ probs: Float32Array; classes: number }> {
  const per = shape.reduce((a, b) => a * b, 1);
  const classes = model.outputs[0]?.shape[1] as number;
  const probs = new Float32Array(count * classes);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const out = tf.tidy(() => {
      const x = tf.tensor(inputs.subarray(start * per, (start + n) * per), [n, ...shape]);
      return model.predict(x) as tf.Tensor;
    });
    try {
      probs.set(await out.data(), start * classes);
    } finally {
      out.dispose();
    }
  }
  return { probs, classes };
}

/**
 * The final model's prediction on `inputs` (already preprocessed, `count × prod(shape)`): the
 * members are visited one at a time, and their probabilities averaged with the per-example
 * entropy, mutual information and pairwise disagreement.
 */
export async function predictFinal(
  members: FinalMembers,
  inputs: Float32Array,
  shape: number[],
  count: number,
  batchSize = 256,
): Promise<FinalPrediction> {
  const size = members.count;
  let sum: Float64Array | undefined;
  let classes = 0;
  const memberEntropy = new Float64Array(count);
  const votes: Int32Array[] = [];
  await members.forEach(async (model) => {
    const out = await memberProbabilities(model, inputs, shape, count, batchSize);
    classes = out.classes;
    sum ??= new Float64Array(count * classes);
    const vote = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const o = i * classes;
      for (let c = 0; c < classes; c++) sum[o + c]! += out.probs[o + c]!;
      memberEntropy[i]! += entropyOf(out.probs, o, classes) / size;
      vote[i] = argmaxOf(out.probs, o, classes);
    }
    votes.push(vote);
  });
  const probabilities = (sum as Float64Array).map((v) => v / size);
  const predicted = new Int32Array(count);
  const entropy = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    predicted[i] = argmaxOf(probabilities, i * classes, classes);
    entropy[i] = entropyOf(probabilities, i * classes, classes);
  }
  const result: FinalPrediction = {
    count,
    classes,
    members: size,
    probabilities,
    predicted,
    entropy,
  };
  if (size < 2) return result;
  const pairs = (size * (size - 1)) / 2;
  const disagreement = new Float64Array(count);
  const perClass = new Int32Array(classes);
  for (let i = 0; i < count; i++) {
    perClass.fill(0);
    for (const vote of votes) perClass[vote[i]!]!++;
    let agree = 0;
    for (const v of perClass) agree += (v * (v - 1)) / 2;
    disagreement[i] = 1 - agree / pairs;
  }
  return {
    ...result,
    // Never below 0: the entropy of a mean is at least the mean entropy (up to rounding).
    mutualInformation: entropy.map((h, i) => Math.max(0, h - memberEntropy[i]!)),
    disagreement,
  };
}
