import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OptimizerStateError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import { MemorySnapshotStore } from './memory-store.js';
import type { SnapshotStore } from './store.js';
import {
  disposeAll,
  randomizeWeights,
  seededInputs,
  tempDir,
  tinyModel,
  weightArrays,
} from './test-helpers.js';

let x: tf.Tensor2D;
let y: tf.Tensor2D;
beforeEach(() => {
  x = seededInputs(16, 4, 21);
  y = tf
    .oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2, 1, 1, 0, 2], 'int32'), 3)
    .toFloat() as tf.Tensor2D;
});
afterEach(() => disposeAll(x, y));

function compiled(optimizer: tf.Optimizer, seed = 5): tf.LayersModel {
  const model = tinyModel();
  randomizeWeights(model, seed);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return model;
}

async function train(model: tf.LayersModel, epochs: number): Promise<void> {
  // 2 updates per epoch, in a fixed order, so runs are deterministic.
  await model.fit(x, y, { batchSize: 8, epochs, shuffle: false, verbose: 0, yieldEvery: 'never' });
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((arr, i) => {
    arr.forEach((v, j) => {
      max = Math.max(max, Math.abs(v - b[i]![j]!));
    });
  });
  return max;
}

describe.each([
  ['Adam', () => tf.train.adam(0.05)],
  ['Momentum', () => tf.train.momentum(0.1, 0.9)],
  ['RMSProp', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
] as const)('resume with %s state', (_name, makeOptimizer) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  for (const kind of ['file', 'memory'] as const) {
    it(`continues exactly as the uninterrupted run (${kind} store)`, async () => {
      const store: SnapshotStore =
        kind === 'file' ? await FileSnapshotStore.open(dir) : new MemorySnapshotStore();
      const original = compiled(makeOptimizer());
      await train(original, 2);
      const saved = await store.save(original, { step: 3 }, { includeOptimizer: true });
      expect(saved.hasOptimizer).toBe(true);
      await train(original, 2);
      const reference = await weightArrays(original);

      const resumed = compiled(makeOptimizer(), 77);
      await store.loadWeightsInto(saved.id, resumed, { includeOptimizer: true });
      // Loading again replaces (and frees) the slots it created the first time.
      const before = tf.memory().numTensors;
      await store.loadWeightsInto(saved.id, resumed, { includeOptimizer: true });
      expect(tf.memory().numTensors).toBe(before);
      await train(resumed, 2);
      expect(maxAbsDiff(await weightArrays(resumed), reference)).toBeLessThan(1e-6);

      // Control: the same weights without the optimizer state end elsewhere.
      const cold = compiled(makeOptimizer(), 77);
      await store.loadWeightsInto(saved.id, cold);
      await train(cold, 2);
      expect(maxAbsDiff(await weightArrays(cold), reference)).toBeGreaterThan(1e-4);
      disposeAll(original, resumed, cold);
    });
  }
});

describe('optimizer state errors', () => {
  it('explains what is missing or different', async () => {
    const store = new MemorySnapshotStore();
    const plain = tinyModel();
    await expect(store.save(plain, { step: 0 }, { includeOptimizer: true })).rejects.toThrow(
      /no optimizer; expected a compiled model/,
    );
    const adamax = compiled(tf.train.adamax(0.01));
    await expect(store.save(adamax, { step: 0 }, { includeOptimizer: true })).rejects.toThrow(
      OptimizerStateError,
    );
    const adam = compiled(tf.train.adam(0.01));
    await train(adam, 1);
    const withState = await store.save(adam, { step: 1 }, { includeOptimizer: true });
    const without = await store.save(adam, { step: 1 });
    await expect(
      store.loadWeightsInto(without.id, adam, { includeOptimizer: true }),
    ).rejects.toThrow(/saved without optimizer state/);
    const sgd = compiled(tf.train.sgd(0.1));
    await expect(
      store.loadWeightsInto(withState.id, sgd, { includeOptimizer: true }),
    ).rejects.toThrow(/saved from a Adam optimizer but the model has a SGD/);
    await expect(
      store.loadWeightsInto(withState.id, plain, { includeOptimizer: true }),
    ).rejects.toThrow(/the model has no optimizer/);
    disposeAll(plain, adamax, adam, sgd);
  });
});
