import { InvalidArgumentError, requireNonNegative } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { PROBABILITY_EPSILON } from './metrics.js';

/**
 * How member outputs become one probability row per example (weights `w_i`, normalised to sum 1):
 * - `'mean'` — `Σ w_i p_i`, the weighted mean of probabilities (the SSE and FGE papers' choice).
 * - `'vote'` — `Σ w_i onehot(argmax p_i)`: the (weighted) fraction of members voting for each
 *   class. A member whose top probabilities tie votes for the lowest tied class index; ties
 *   between classes in the fractions are kept as they are (`[0.5, 0.5]`), and `accuracy` then
 *   picks the lowest tied index, as `tf.argMax` does.
 * - `'logit-mean'` — `softmax(Σ w_i z_i)` over the members' pre-softmax outputs `z_i`.
 * - `'geometric'` — `softmax(Σ w_i log max(p_i, 1e-12))`, the normalised weighted geometric mean
 *   `Π p_i^{w_i} / Σ_c Π p_ic^{w_i}`.
 *
 * For softmax members `'logit-mean'` and `'geometric'` are the same distribution: `p_i =
 * exp(z_i)/Z_i`, so `Π p_i^{w_i} ∝ exp(Σ w_i z_i)` (the `Π Z_i^{w_i}` factor is the same for every
 * class and cancels). In particular, logits recovered as log-probabilities give exactly the
 * geometric mean. They differ only numerically: `'logit-mean'` keeps the logits' range where a
 * saturated softmax has rounded probabilities to 0 (then clamped to 1e-12 by `'geometric'`).
 * Because weights multiply logits, unnormalised weights would act as an inverse temperature —
 * one reason weights are always normalised.
 */
export type CombineRule = 'mean' | 'vote' | 'logit-mean' | 'geometric';

/** The combination rules, in documentation order. */
export const COMBINE_RULES: readonly CombineRule[] = ['mean', 'vote', 'logit-mean', 'geometric'];

/** Checks a rule name. */
export function checkRule(rule: unknown): CombineRule {
  if (!COMBINE_RULES.includes(rule as CombineRule)) {
    throw new InvalidArgumentError('combine', rule, COMBINE_RULES.map((r) => `'${r}'`).join(', '));
  }
  return rule as CombineRule;
}

/**
 * Member weights normalised to sum 1: uniform when `weights` is undefined. Weights are relative
 * (`[2, 1, 1]` means `[0.5, 0.25, 0.25]`); each must be finite and ≥ 0, at least one > 0, one per
 * member.
 */
export function normalizeWeights(
  weights: readonly number[] | undefined,
  members: number,
): number[] {
  if (weights === undefined) return Array.from({ length: members }, () => 1 / members);
  if (!Array.isArray(weights) || weights.length !== members) {
    throw new InvalidArgumentError('weights', weights, `${members} weights, one per member`);
  }
  weights.forEach((w, i) => {
    requireNonNegative(`weights[${i}]`, w);
  });
  // Scaled by the largest first, so that huge weights (1e308 each) do not overflow to Infinity.
  const largest = Math.max(...weights);
  const total = largest > 0 ? weights.reduce((a, b) => a + b / largest, 0) : 0;
  if (!(total > 0)) {
    throw new InvalidArgumentError('weights', weights, 'at least one weight > 0');
  }
  return weights.map((w) => w / largest / total);
}

/** Does the rule read members' logits (rather than their probabilities)? */
export function needsLogits(rule: CombineRule): boolean {
  return rule === 'logit-mean';
}

/**
 * A member's term in the weighted sum, from its probabilities (or, for `'logit-mean'`, its
 * logits). Call inside `tf.tidy`.
 */
export function contribution(rule: CombineRule, values: tf.Tensor2D): tf.Tensor2D {
  switch (rule) {
    case 'mean':
    case 'logit-mean':
      return values;
    case 'geometric':
      return tf.log(tf.maximum(values, PROBABILITY_EPSILON)) as tf.Tensor2D;
    case 'vote':
      return tf.cast(tf.oneHot(tf.argMax(values, 1), values.shape[1]), 'float32') as tf.Tensor2D;
  }
}

/**
 * Adds `weight · term` to a running sum (starts it when `acc` is undefined). Streaming and
 * in-memory prediction both build their sums with exactly this fold, member by member in order,
 * so they agree bit for bit. Call inside `tf.tidy`.
 */
export function accumulate(
  acc: tf.Tensor2D | undefined,
  term: tf.Tensor2D,
  weight: number,
): tf.Tensor2D {
  const scaled = tf.mul(term, tf.scalar(weight)) as tf.Tensor2D;
  return acc === undefined ? scaled : (tf.add(acc, scaled) as tf.Tensor2D);
}

/** Turns a weighted sum of terms into probabilities. Call inside `tf.tidy`. */
export function finalize(rule: CombineRule, sum: tf.Tensor2D): tf.Tensor2D {
  return rule === 'logit-mean' || rule === 'geometric' ? tf.softmax(sum) : sum;
}

/** Combines the terms of all members of one batch (fold + finalize). Call inside `tf.tidy`. */
export function combineTerms(
  rule: CombineRule,
  terms: readonly tf.Tensor2D[],
  weights: readonly number[],
): tf.Tensor2D {
  let acc: tf.Tensor2D | undefined;
  terms.forEach((term, i) => {
    acc = accumulate(acc, term, weights[i] as number);
  });
  if (acc === undefined) throw new InvalidArgumentError('terms', terms, 'at least one member');
  return finalize(rule, acc);
}
