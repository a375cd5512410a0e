import { seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeBatchNorm } from './batch-norm.js';

/** Per-channel mean and biased variance in float64 of `values` laid out [outer, C, inner]. */
function expected(values: number[], channels: number, inner: number) {
  const sums = new Array<number>(channels).fill(0);
  const counts = new Array<number>(channels).fill(0);
  values.forEach((v, i) => {
    const c = Math.floor(i / inner) % channels;
    sums[c] = (sums[c] as number) + v;
    counts[c] = (counts[c] as number) + 1;
  });
  const mean = sums.map((s, c) => s / (counts[c] as number));
  const sq = new Array<number>(channels).fill(0);
  values.forEach((v, i) => {
    const c = Math.floor(i / inner) % channels;
    sq[c] = (sq[c] as number) + (v - (mean[c] as number)) ** 2;
  });
  return { mean, variance: sq.map((s, c) => s / (counts[c] as number)) };
}

function movingStats(layer: tf.layers.Layer): { mean: number[]; variance: number[] } {
  const w = layer.getWeights();
  return {
    mean: Array.from(w[w.length - 2]?.dataSync() ?? []),
    variance: Array.from(w[w.length - 1]?.dataSync() ?? []),
  };
}

function expectClose(got: number[], want: number[], tol: number) {
  expect(got.length).toBe(want.length);
  got.forEach((g, j) => {
    const w = want[j] as number;
    expect(Math.abs(g - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
}

describe.each(['cpu', 'wasm'] as const)(
  'recomputeBatchNorm statistics on the %s backend',
  (backend) => {
    beforeAll(() => tf.setBackend(backend));
    afterAll(() => tf.setBackend('cpu'));

    it('rank 4, an odd channel count, channels last and first, short last batch', async () => {
      const rnd = seededRandom(11);
      const shape = [7, 3, 4, 5] as const;
      const vals = Array.from({ length: 7 * 3 * 4 * 5 }, () => 2 + rnd() * 3);
      const x = tf.tensor4d(vals, [...shape]);
      for (const [axis, channels, inner] of [
        [-1, 5, 1],
        [1, 3, 20],
        [2, 4, 5],
      ] as const) {
        const m = tf.sequential({
          layers: [tf.layers.batchNormalization({ inputShape: [3, 4, 5], axis })],
        });
        const before = tf.memory().numTensors;
        await recomputeBatchNorm(m, x, { batchSize: 3 });
        expect(tf.memory().numTensors).toBe(before);
        const want = expected(vals, channels, inner);
        const got = movingStats(m.layers[0] as tf.layers.Layer);
        expectClose(got.mean, want.mean, 1e-5);
        expectClose(got.variance, want.variance, 1e-4);
        m.dispose();
      }
      x.dispose();
    });

    it('stays accurate with a large mean relative to the spread', async () => {
      const m = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3] })] });
      const rnd = seededRandom(5);
      const vals = Array.from({ length: 600 * 3 }, (_, i) => 10000 * ((i % 3) + 1) + rnd() * 0.1);
      const x = tf.tensor2d(vals, [600, 3]);
      await recomputeBatchNorm(m, x, { batchSize: 64 });
      const want = expected(vals, 3, 1);
      const got = movingStats(m.layers[0] as tf.layers.Layer);
      got.variance.forEach((v, j) => {
        expect(Math.abs(v - (want.variance[j] as number))).toBeLessThan(
          0.02 * (want.variance[j] as number),
        );
      });
      x.dispose();
      m.dispose();
    });
  },
);

describe('recomputeBatchNorm on wasm', () => {
  it('matches hand-computed statistics on a conv model with two batch-norm layers, tensors flat', async () => {
    await tf.setBackend('wasm');
    try {
      const init = (seed: number) => tf.initializers.glorotUniform({ seed });
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: init(1),
          }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.conv2d({ filters: 5, kernelSize: 3, kernelInitializer: init(2) }),
          tf.layers.batchNormalization(),
        ],
      });
      const x = tf.randomNormal([21, 6, 6, 2], 1, 2, 'float32', 9);
      const before = tf.memory().numTensors;
      await recomputeBatchNorm(model, x, { batchSize: 8 });
      expect(tf.memory().numTensors).toBe(before);
      // The first layer's input is the first conv's output: hand-computed ground truth.
      const conv = tf.tidy(() => (model.layers[0] as tf.layers.Layer).apply(x) as tf.Tensor);
      const want = expected(Array.from(conv.dataSync()), 3, 1);
      conv.dispose();
      const first = movingStats(model.layers[1] as tf.layers.Layer);
      expectClose(first.mean, want.mean, 1e-5);
      expectClose(first.variance, want.variance, 1e-4);
      x.dispose();
      model.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
