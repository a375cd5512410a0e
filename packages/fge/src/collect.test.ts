import { readWeights } from '@onerun/core';
import { fgeTriangular, getOptimizerLearningRate } from '@onerun/schedules';
import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { fge, fgeCallback } from './collect.js';
import { flatValues, mlp, spirals } from './test-utils.js';

const data = spirals(64, 3);
afterAll(() => tf.dispose([data.xs, data.ys]));

function compiled(seed: number): tf.LayersModel {
  const model = mlp(seed, { hidden: 6 });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

describe('fgeCallback', () => {
  it('collects exactly at each cycle’s minimum during fit, then stops', async () => {
    const model = compiled(1);
    const store = new MemorySnapshotStore();
    const fge = fgeCallback({
      optimizer: model.optimizer,
      store,
      lr1: 0.05,
      lr2: 0.01,
      cycleSteps: 4,
      cycles: 3,
    });
    const rates: number[] = [];
    const weightsAfter = new Map<number, number[]>();
    let step = 0;
    await model.fit(data.xs, data.ys, {
      batchSize: 16, // 4 updates per epoch
      epochs: 10,
      shuffle: false,
      verbose: 0,
      callbacks: [
        fge,
        new tf.CustomCallback({
          onBatchBegin: async () => void rates.push(getOptimizerLearningRate(model.optimizer)),
          onBatchEnd: async () => {
            weightsAfter.set(step++, await flatValues(model.getWeights()));
          },
        }),
      ],
    });
    // Cycles of 4 updates: minimum α2 at the 2nd update of each (steps 1, 5, 9); stop after 3rd.
    expect(rates.length).toBe(10);
    const schedule = fgeTriangular({ lr1: 0.05, lr2: 0.01, cycleSteps: 4 });
    rates.forEach((lr, i) => {
      expect(lr).toBeCloseTo(schedule.lrAt(i), 10);
    });
    const entries = await store.list();
    expect(entries.map((e) => e.step)).toEqual([1, 5, 9]);
    expect(entries.map((e) => e.learningRate)).toEqual(
      [0.01, 0.01, 0.01].map((v) => expect.closeTo(v, 10)),
    );
    expect(entries.every((e) => e.tags?.method === 'fge')).toBe(true);
    expect(fge.collected.map((e) => e.id)).toEqual(entries.map((e) => e.id));
    expect(fge.done).toBe(true);
    // Each snapshot holds the weights right after its minimum's update.
    const probe = compiled(9);
    for (const e of entries) {
      await store.loadWeightsInto(e.id, probe);
      expect(await flatValues(probe.getWeights())).toEqual(weightsAfter.get(e.step));
    }
    probe.dispose();
    model.dispose();
  });

  it('drives a custom loop through beforeUpdate/afterUpdate', async () => {
    const model = compiled(2);
    const optimizer = tf.train.momentum(0.1, 0.9);
    const store = new MemorySnapshotStore();
    const fge = fgeCallback({ optimizer, store, lr1: 0.1, lr2: 0.02, cycleSteps: 6, cycles: 2 });
    const collectedAt: number[] = [];
    for (let i = 0; !fge.done; i++) {
      const lr = fge.beforeUpdate();
      expect(lr).toBeCloseTo(fge.schedule.lrAt(i), 10);
      tf.tidy(() => {
        optimizer.minimize(() =>
          tf.losses.softmaxCrossEntropy(
            data.ys,
            model.apply(data.xs, { training: true }) as tf.Tensor,
          ),
        );
      });
      const entry = await fge.afterUpdate(model);
      if (entry) collectedAt.push(i);
    }
    expect(collectedAt).toEqual([2, 8]);
    expect(fge.step).toBe(9);
    const loaded = await store.load((await store.list())[1]!.id);
    const w = readWeights(model, 'all');
    expect(await flatValues(loaded.getWeights())).toEqual(await flatValues(w));
    tf.dispose(w);
    loaded.dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('resumes from its scheduler: the step is given once, and collection follows it', async () => {
    const model = compiled(4);
    const optimizer = tf.train.sgd(0.1);
    const store = new MemorySnapshotStore();
    const fge = fgeCallback({ optimizer, store, lr1: 0.1, lr2: 0.02, cycleSteps: 6 });
    fge.scheduler.reset(5); // minima after updates 2, 8, 14, …
    const collectedAt: number[] = [];
    for (let i = 5; i < 10; i++) {
      expect(fge.beforeUpdate()).toBeCloseTo(fge.schedule.lrAt(i), 10);
      const entry = await fge.afterUpdate(model);
      if (entry) collectedAt.push(entry.step);
    }
    expect(collectedAt).toEqual([8]);
    expect(fge.step).toBe(10);
    optimizer.dispose();
    model.dispose();
  });

  it('refuses an optimizer that is not the model’s own in fit, and odd cycles', async () => {
    const model = compiled(3);
    const other = tf.train.sgd(0.1);
    const store = new MemorySnapshotStore();
    const fge = fgeCallback({ optimizer: other, store, lr1: 0.05, lr2: 0.01, cycleSteps: 4 });
    await expect(
      model.fit(data.xs, data.ys, { epochs: 1, verbose: 0, callbacks: [fge] }),
    ).rejects.toThrow(/optimizer/);
    expect(() =>
      fgeCallback({ optimizer: other, store, lr1: 0.05, lr2: 0.01, cycleSteps: 3 }),
    ).toThrow(/even/);
    expect(() =>
      fgeCallback({ optimizer: other, store, lr1: 0.05, lr2: 0.01, cycleSteps: 4, cycles: 0 }),
    ).toThrow(/cycles/);
    expect(await store.list()).toEqual([]);
    other.dispose();
    model.dispose();
  });
});

describe('fge', () => {
  it('runs fit for the requested cycles and returns the collected entries', async () => {
    const model = compiled(4);
    const store = new MemorySnapshotStore();
    const result = await fge(model, data, {
      store,
      lr1: 0.05,
      lr2: 0.01,
      cycleSteps: 6, // 64 examples / 16 = 4 updates per epoch: cycles straddle epochs
      cycles: 2,
      batchSize: 16,
    });
    expect(result.steps).toBe(9);
    expect(result.collected.map((e) => e.step)).toEqual([2, 8]);
    expect((await store.list()).map((e) => e.id)).toEqual(result.collected.map((e) => e.id));
    model.dispose();
  });

  it('works from a batched dataset', async () => {
    const model = compiled(5);
    const store = new MemorySnapshotStore();
    const ds = tf.data
      .zip({ xs: tf.data.array(data.xs.unstack()), ys: tf.data.array(data.ys.unstack()) })
      .batch(32);
    const result = await fge(model, ds, { store, lr1: 0.05, lr2: 0.01, cycleSteps: 2, cycles: 3 });
    expect(result.collected.map((e) => e.step)).toEqual([0, 2, 4]);
    expect(result.steps).toBe(5);
    model.dispose();
  });
});
