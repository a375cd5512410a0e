import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  accuracy,
  binOf,
  brier,
  classificationMetrics,
  disagreement,
  ece,
  nll,
  PROBABILITY_EPSILON,
  reliabilityDiagram,
} from './metrics.js';

// Four examples, three classes. Confidences 0.7, 0.5, 0.65, 0.9; predicted 0, 0, 2, 1.
const P = [
  [0.7, 0.2, 0.1],
  [0.5, 0.25, 0.25],
  [0.15, 0.2, 0.65],
  [0.05, 0.9, 0.05],
];
const Y = [0, 1, 0, 1]; // correct, wrong, wrong, correct

let probs: tf.Tensor2D;
let before: number;
beforeEach(() => {
  before = tf.memory().numTensors;
  probs = tf.tensor2d(P);
});
afterEach(() => {
  probs.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

describe('accuracy, nll, brier', () => {
  it('match hand computation', async () => {
    expect(await accuracy(probs, Y)).toBe(0.5);
    // −(ln 0.7 + ln 0.25 + ln 0.15 + ln 0.9) / 4
    expect(await nll(probs, Y)).toBeCloseTo(0.9363624514005827, 6);
    // (0.3²+0.2²+0.1²) + (0.5²+0.75²+0.25²) + (0.85²+0.2²+0.65²) + (0.05²+0.1²+0.05²) = 2.215
    expect(await brier(probs, Y)).toBeCloseTo(2.215 / 4, 6);
  });

  it('accept one-hot labels (tensor or arrays) and index tensors alike', async () => {
    const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(Y, 'int32'), 3));
    const indices = tf.tensor1d(Y, 'int32');
    const rows = Y.map((y) => [0, 1, 2].map((c) => (c === y ? 1 : 0)));
    const expected = await classificationMetrics(probs, Y);
    expect(await classificationMetrics(probs, oneHot)).toEqual(expected);
    expect(await classificationMetrics(probs, indices)).toEqual(expected);
    expect(await classificationMetrics(probs, rows)).toEqual(expected);
    expect(await classificationMetrics(probs, Int32Array.from(Y))).toEqual(expected);
    tf.dispose([oneHot, indices]);
  });

  it('breaks argmax ties toward the lowest class index', async () => {
    const tied = tf.tensor2d([
      [0.4, 0.4, 0.2],
      [0.2, 0.4, 0.4],
    ]);
    expect(await accuracy(tied, [0, 2])).toBe(0.5);
    expect(await accuracy(tied, [1, 1])).toBe(0.5);
    tied.dispose();
  });

  it('clamps p(true) at epsilon so a zero probability costs −log ε, not ∞', async () => {
    const sure = tf.tensor2d([
      [1, 0],
      [1, 0],
    ]);
    expect(await nll(sure, [1, 0])).toBeCloseTo(-Math.log(PROBABILITY_EPSILON) / 2, 6);
    expect(await nll(sure, [1, 0], { epsilon: 1e-4 })).toBeCloseTo(-Math.log(1e-4) / 2, 6);
    expect(PROBABILITY_EPSILON).toBe(1e-12);
    sure.dispose();
  });

  it('rejects bad labels and non-probabilities, naming the value', async () => {
    await expect(accuracy(probs, [0, 1, 3, 1])).rejects.toThrow(
      /labels\[2\]: got 3; expected a class index in \[0, 3\)/,
    );
    await expect(accuracy(probs, [0, 1, 0])).rejects.toThrow(/expected 4 labels/);
    await expect(accuracy(probs, [0, 1, 0.5, 1])).rejects.toThrow(InvalidArgumentError);
    const soft = tf.tensor2d([
      [0.9, 0.05, 0.05],
      [0, 1, 0],
      [1, 0, 0],
      [0, 1, 0],
    ]);
    await expect(accuracy(probs, soft)).rejects.toThrow(/labels\[0\].*one-hot row/);
    const logits = tf.tensor2d([[2, -1, 0.5]]);
    await expect(accuracy(logits, [0])).rejects.toThrow(
      /probs\[0\]\[0\]: got 2; expected a probability in \[0, 1\]/,
    );
    const flat = tf.tensor1d([0.5, 0.5]);
    await expect(accuracy(flat, [0])).rejects.toThrow(/a 2-D tensor/);
    await expect(nll(probs, Y, { epsilon: 0 })).rejects.toThrow(/epsilon/);
    await expect(ece(probs, Y, { bins: 0 })).rejects.toThrow(
      /bins: got 0; expected an integer ≥ 1/,
    );
    tf.dispose([soft, logits, flat]);
  });
});

describe('ece and reliabilityDiagram', () => {
  it('15 bins (default): each example alone in its bin, 11 bins empty', async () => {
    // |1−0.7| + |0−0.5| + |0−0.65| + |1−0.9|, each weighted 1/4
    expect(await ece(probs, Y)).toBeCloseTo((0.3 + 0.5 + 0.65 + 0.1) / 4, 6);
    const bins = await reliabilityDiagram(probs, Y);
    expect(bins).toHaveLength(15);
    expect(bins.filter((b) => b.count === 0)).toHaveLength(11);
    expect(
      bins.filter((b) => b.count === 0).every((b) => b.confidence === null && b.accuracy === null),
    ).toBe(true);
    // 0.7 ∈ (10/15, 11/15], 0.5 ∈ (7/15, 8/15], 0.65 ∈ (9/15, 10/15], 0.9 ∈ (13/15, 14/15]
    expect(bins.map((b, i) => (b.count ? i : -1)).filter((i) => i >= 0)).toEqual([7, 9, 10, 13]);
    expect(bins[10]).toMatchObject({ count: 1, accuracy: 1 });
    expect(bins[10]?.confidence).toBeCloseTo(0.7, 6);
    expect(bins[10]?.lower).toBeCloseTo(10 / 15, 12);
    expect(bins[10]?.upper).toBeCloseTo(11 / 15, 12);
  });

  it('5 bins: two examples share a bin; two leading bins are empty', async () => {
    // bins (0.4,0.6]: {0.5 wrong}; (0.6,0.8]: {0.7 right, 0.65 wrong}; (0.8,1]: {0.9 right}
    // ECE = ¼·|0−0.5| + ½·|0.5−0.675| + ¼·|1−0.9| = 0.125 + 0.0875 + 0.025
    expect(await ece(probs, Y, { bins: 5 })).toBeCloseTo(0.2375, 6);
    const bins = await reliabilityDiagram(probs, Y, { bins: 5 });
    expect(bins.map((b) => b.count)).toEqual([0, 0, 1, 2, 1]);
    expect(bins[3]?.accuracy).toBe(0.5);
    expect(bins[3]?.confidence).toBeCloseTo(0.675, 6);
    expect(bins[0]).toEqual({ lower: 0, upper: 0.2, count: 0, confidence: null, accuracy: null });
  });

  it('bins are right-closed: a confidence on an edge goes to the lower bin', async () => {
    const edge = tf.tensor2d([
      [0.5, 0.5],
      [0.75, 0.25],
      [1, 0],
    ]);
    const two = await reliabilityDiagram(edge, [0, 0, 0], { bins: 2 });
    expect(two.map((b) => b.count)).toEqual([1, 2]);
    const four = await reliabilityDiagram(edge, [0, 0, 0], { bins: 4 });
    expect(four.map((b) => b.count)).toEqual([0, 1, 1, 1]);
    // Float rounding of c·bins must not move a value across an edge: 0.2·15 = 3.0000000000000004.
    expect(binOf(0.2, 15)).toBe(2);
    expect(binOf(0.2000001, 15)).toBe(3);
    expect(binOf(0, 15)).toBe(0);
    expect(binOf(1, 15)).toBe(14);
    edge.dispose();
  });

  it('a perfectly calibrated set has ECE 0', async () => {
    // Confidence 0.75 on four examples, three of them right.
    const p = tf.tensor2d([
      [0.75, 0.25],
      [0.75, 0.25],
      [0.75, 0.25],
      [0.75, 0.25],
    ]);
    expect(await ece(p, [0, 0, 0, 1])).toBe(0);
    p.dispose();
  });
});

describe('disagreement', () => {
  it('is the mean over pairs of the fraction of differing argmaxes', async () => {
    const oneHot = (classes: number[]) =>
      tf.tidy(() => tf.oneHot(tf.tensor1d(classes, 'int32'), 3).toFloat());
    const members = [oneHot([0, 1, 2, 0]), oneHot([0, 1, 1, 1]), oneHot([2, 1, 2, 0])];
    // pairs: (0,1) differ at 2,3 → ½; (0,2) at 0 → ¼; (1,2) at 0,2,3 → ¾; mean ½
    expect(await disagreement(members)).toBe(0.5);
    expect(await disagreement(members.slice(0, 1))).toBe(0);
    const short = tf.fill([3, 3], 1 / 3);
    await expect(disagreement([members[0] as tf.Tensor, short])).rejects.toThrow(
      /memberProbs\[1\]/,
    );
    tf.dispose([...members, short]);
  });
});
