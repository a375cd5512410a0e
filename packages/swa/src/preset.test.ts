import { InvalidArgumentError } from '@onerun/core';
import { scheduleCallback, swaDecay } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { WeightAverager } from './averager.js';
import { recomputeBatchNorm } from './batch-norm.js';
import { swa } from './preset.js';

const EPOCHS = 5;
const SWA_START = 3;
const BATCH = 16;

/** A seeded dense → batch norm → ReLU → softmax model on 6 features, 3 classes, plain SGD. */
function bnModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 8, kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(2) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

function toyData(): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.randomNormal([64, 6], 0, 1, 'float32', 4);
  const ys = tf.tidy(() => tf.oneHot(tf.argMax(tf.slice(xs, [0, 0], [-1, 3]), 1), 3));
  return { xs, ys };
}

const values = (model: tf.LayersModel, which: 'trainable' | 'all') =>
  (which === 'all' ? model.weights : model.trainableWeights).map((w) =>
    Array.from(w.read().dataSync()),
  );

function expectClose(actual: number[][], expected: number[][], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (const [i, row] of actual.entries()) {
    for (const [j, v] of row.entries()) {
      worst = Math.max(worst, Math.abs(v - (expected[i]?.[j] as number)));
    }
  }
  expect(worst).toBeLessThan(tolerance);
}

describe('swa()', () => {
  it('gives the average of the end-of-epoch weights from swaStart on, with batch norm recomputed for it', async () => {
    const data = toyData();
    const options = { epochs: EPOCHS, swaStart: SWA_START, lr: 0.1, swaLr: 0.02, batchSize: BATCH };
    const preset = bnModel();
    const result = await swa(preset, data, { ...options, shuffle: false });
    expect(result).toEqual({
      count: EPOCHS - SWA_START + 1,
      steps: EPOCHS * 4,
      batchNorm: { layers: 1, examples: 64, batches: 2 },
    });

    // By hand: the same schedule, one fit per epoch; a WeightAverager and plain arrays (the mean
    // of the trainable weights at the end of epochs 3, 4 and 5) fed from the end of each epoch.
    const hand = bnModel();
    const lr = scheduleCallback({
      schedule: swaDecay({
        lrInit: 0.1,
        swaLr: 0.02,
        swaStart: SWA_START * 4,
        totalSteps: EPOCHS * 4,
      }),
    });
    const averager = new WeightAverager({ mode: 'swa' });
    const iterates: number[][][] = [];
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      await hand.fit(data.xs, data.ys, {
        epochs: 1,
        batchSize: BATCH,
        shuffle: false,
        verbose: 0,
        callbacks: [lr],
      });
      if (epoch >= SWA_START) {
        await averager.update(hand);
        iterates.push(values(hand, 'trainable'));
      }
    }
    const mean = (iterates[0] as number[][]).map((row, i) =>
      row.map((_, j) => iterates.reduce((s, w) => s + (w[i]?.[j] as number), 0) / iterates.length),
    );
    expectClose(values(preset, 'trainable'), mean, 1e-5);
    averager.copyTo(hand);
    await recomputeBatchNorm(hand, data.xs);
    expectClose(values(preset, 'all'), values(hand, 'all'), 1e-5);
    averager.dispose();
    tf.dispose([data.xs, data.ys]);
    preset.dispose();
    hand.dispose();
  });

  it('takes a batched tf.data.Dataset as model.fitDataset does, with the same result', async () => {
    const data = toyData();
    const options = { epochs: EPOCHS, swaStart: SWA_START, lr: 0.1, swaLr: 0.02 };
    const fromTensors = bnModel();
    await swa(fromTensors, [data.xs, data.ys], { ...options, batchSize: BATCH, shuffle: false });
    const dataset = tf.data
      .zip({ xs: tf.data.array(tf.unstack(data.xs)), ys: tf.data.array(tf.unstack(data.ys)) })
      .batch(BATCH);
    const fromDataset = bnModel();
    const result = await swa(fromDataset, dataset as never, { ...options, bnBatchSize: BATCH });
    expect(result.count).toBe(EPOCHS - SWA_START + 1);
    expect(result.steps).toBe(EPOCHS * 4);
    expectClose(values(fromDataset, 'all'), values(fromTensors, 'all'), 1e-5);
    tf.dispose([data.xs, data.ys]);
    fromTensors.dispose();
    fromDataset.dispose();
  });

  it('keeps the number of tensors flat from one call to the next', async () => {
    const data = toyData();
    const model = bnModel();
    const options = { epochs: 3, swaStart: 2, lr: 0.1, swaLr: 0.05, batchSize: BATCH };
    await swa(model, data, options);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await swa(model, data, options);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
  });

  it('refuses bad input with typed errors naming the value', async () => {
    const data = toyData();
    const model = bnModel();
    const ok = { epochs: 3, swaStart: 2, lr: 0.1, swaLr: 0.05 };
    await expect(swa(model, data, { ...ok, swaStart: 3 })).rejects.toThrow(/options\.swaStart.*3/);
    await expect(swa(model, data, { ...ok, epochs: 1.5 })).rejects.toThrow(InvalidArgumentError);
    await expect(swa(model, data, { ...ok, swaLr: 0.5 })).rejects.toThrow(/swaLr/);
    await expect(swa(model, { xs: data.xs } as never, ok)).rejects.toThrow(/data/);
    const uncompiled = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 3 })] });
    await expect(swa(uncompiled, data, ok)).rejects.toThrow(/compiled model/);
    const unsized = tf.data.generator(function* () {
      yield { xs: data.xs, ys: data.ys };
    });
    await expect(swa(model, unsized as never, ok)).rejects.toThrow(/stepsPerEpoch/);
    tf.dispose([data.xs, data.ys]);
    model.dispose();
    uncompiled.dispose();
  });
});
