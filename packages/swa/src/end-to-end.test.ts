import { seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { WeightAverager } from './averager.js';
import { recomputeBatchNorm } from './batch-norm.js';
import { swaCallback } from './callback.js';

const SEED = Number(process.env.SWA_E2E_SEED ?? 1);

/**
 * Seeded synthetic 3-class task: 8 Gaussian features, a nonlinear labelling, then per-feature
 * offsets and scales (as raw, unnormalised inputs have).
 */
function task(n: number, seed: number) {
  const rnd = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: 8 }, gauss) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const score = [z[0] + z[1] * z[2], z[3] - 0.5 * z[4] ** 2 + 0.5, z[5] * z[6] - z[7]];
    labels.push(score.indexOf(Math.max(...score)));
    rows.push(z.map((v, j) => 20 * (j - 3) + (j + 1) * v));
  }
  return { x: tf.tensor2d(rows), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 3) };
}

function mlp(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.heNormal({ seed: seed * 10 + s });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [8], units: 16, kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 16, kernelInitializer: init(2) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  // A high constant rate: the regime SWA is for (the iterates bounce around a wide basin).
  model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
  return model;
}

function testLoss(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(
    () =>
      tf
        .mean(tf.metrics.categoricalCrossentropy(y, model.predict(x) as tf.Tensor))
        .dataSync()[0] as number,
  );
}

describe('SWA end to end (MLP with batch norm, synthetic task)', () => {
  it('averaged weights need the recompute; with it they are at least as good as the last iterate', async () => {
    const train = task(256, SEED);
    const test = task(512, SEED + 100);
    const model = mlp(SEED);
    const averager = new WeightAverager({ mode: 'swa' });
    // 12 epochs × 8 updates; average every update of the last 6 epochs.
    const cb = swaCallback({
      averager,
      start: { epoch: 6 },
      every: { steps: 1 },
      writeAverage: false,
    });
    await model.fit(train.x, train.y, {
      epochs: 12,
      batchSize: 32,
      shuffle: false,
      verbose: 0,
      yieldEvery: 'never',
      callbacks: [cb],
    });
    expect(averager.count).toBe(48);
    const asTrained = testLoss(model, test.x, test.y);
    // The fair baseline: the last iterate with exact statistics (tfjs's momentum-0.99 running
    // statistics still lag after 96 updates, which would flatter SWA).
    await recomputeBatchNorm(model, train.x);
    const last = testLoss(model, test.x, test.y);
    // Averaged weights, statistics left as they were (the last iterate's, exact).
    averager.copyTo(model);
    const stale = testLoss(model, test.x, test.y);
    await recomputeBatchNorm(model, train.x);
    const swa = testLoss(model, test.x, test.y);
    if (process.env.SWA_E2E_LOG) console.log({ asTrained, last, stale, swa });
    expect(stale).toBeGreaterThan(1.1 * last);
    expect(swa).toBeLessThan(0.9 * stale);
    expect(swa).toBeLessThanOrEqual(1.02 * last);
    expect(swa).toBeLessThanOrEqual(asTrained);
    tf.dispose([train.x, train.y, test.x, test.y]);
    model.dispose();
    averager.dispose();
  });
});
