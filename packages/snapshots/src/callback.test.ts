import { InvalidArgumentError } from '@onerun/core';
import { type Schedule, scheduleCallback, sseCosine } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { snapshotCallback } from './callback.js';
import { MemorySnapshotStore } from './memory-store.js';
import {
  disposeAll,
  randomizeWeights,
  seededInputs,
  tinyModel,
  weightArrays,
} from './test-helpers.js';

let x: tf.Tensor2D;
let y: tf.Tensor2D;
beforeEach(() => {
  x = seededInputs(16, 4, 31);
  y = tf.tidy(() =>
    tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2, 2, 1, 0, 1, 1, 2, 0, 0, 1, 2], 'int32'), 3).toFloat(),
  ) as tf.Tensor2D;
});
afterEach(() => disposeAll(x, y));

function compiled(): tf.LayersModel {
  const model = tinyModel();
  randomizeWeights(model, 2);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

const fitArgs = { batchSize: 4, shuffle: false, verbose: 0, yieldEvery: 'never' } as const;

describe('snapshotCallback', () => {
  it('saves at the schedule collection points, with step, epoch, lr and batch loss', async () => {
    const model = compiled();
    const store = new MemorySnapshotStore();
    const schedule = sseCosine({ lr0: 0.1, totalSteps: 8, cycles: 2 }); // collects after 3 and 7
    const lr = scheduleCallback({ schedule });
    const cb = snapshotCallback({ store, schedule: lr, tags: { method: 'sse' } });
    await model.fit(x, y, {
      ...fitArgs,
      epochs: 2, // 4 updates per epoch
      callbacks: [lr, cb],
    });
    const listed = await store.list();
    expect(listed.map((e) => [e.step, e.epoch])).toEqual([
      [3, 0],
      [7, 1],
    ]);
    expect(listed.map((e) => e.learningRate)).toEqual([schedule.lrAt(3), schedule.lrAt(7)]);
    expect(listed.every((e) => e.tags?.method === 'sse')).toBe(true);
    expect(listed.every((e) => Number.isFinite(e.metrics?.loss))).toBe(true);
    expect(cb.saved.map((e) => e.id)).toEqual(listed.map((e) => e.id));
    expect(lr.step).toBe(8);
    model.dispose();
  });

  it('every { steps } reads the optimizer update count, in custom loops and fit calls alike', async () => {
    const model = compiled();
    const store = new MemorySnapshotStore();
    const cb = snapshotCallback({ store, every: { steps: 3 } });
    const after: Float32Array[][] = [];
    for (let step = 0; step < 8; step++) {
      await model.trainOnBatch(x.slice(0, 4), y.slice(0, 4));
      after.push(await weightArrays(model));
      await cb.afterUpdate(model);
    }
    const listed = await store.list();
    expect(listed.map((e) => e.step)).toEqual([2, 5]);
    const probe = tinyModel();
    for (const e of listed) {
      await store.loadWeightsInto(e.id, probe);
      expect(await weightArrays(probe)).toEqual(after[e.step]);
    }
    // fit continues the same count: updates 8..15 → saves after 8, 11, 14.
    await model.fit(x, y, { ...fitArgs, epochs: 1, callbacks: [cb] });
    await model.fit(x, y, { ...fitArgs, epochs: 1, callbacks: [cb] });
    expect((await store.list()).map((e) => e.step)).toEqual([2, 5, 8, 11, 14]);
    disposeAll(model, probe);
  });

  it('every { epochs } saves at the end of every n-th epoch with the epoch loss', async () => {
    const model = compiled();
    const store = new MemorySnapshotStore();
    const cb = snapshotCallback({ store, every: { epochs: 2 } });
    const h1 = await model.fit(x, y, { ...fitArgs, epochs: 3, callbacks: [cb] });
    // A continued fit says where it is with initialEpoch, as tfjs defines.
    const h2 = await model.fit(x, y, { ...fitArgs, initialEpoch: 3, epochs: 4, callbacks: [cb] });
    const listed = await store.list();
    expect(listed.map((e) => [e.epoch, e.step])).toEqual([
      [1, 7],
      [3, 15],
    ]);
    expect(listed[0]!.metrics?.loss).toBeCloseTo(h1.history.loss![1] as number, 6);
    expect(listed[1]!.metrics?.loss).toBeCloseTo(h2.history.loss![0] as number, 6);
    expect(listed[0]!.learningRate).toBeCloseTo(0.1, 7);
    model.dispose();
  });

  it('reads no log from the device on batches without a save', async () => {
    const store = new MemorySnapshotStore();
    // Any { schedule, step } is a step source, not only a ScheduleCallback.
    const clock = {
      step: 0,
      schedule: { name: 'fifth', lrAt: () => 0.1, collectsAt: (s: number) => s % 5 === 4 },
    };
    const cb = snapshotCallback({ store, schedule: clock });
    const loss = tf.scalar(1.5);
    const spy = vi.spyOn(loss, 'data');
    const model = tinyModel();
    cb.setModel(model);
    for (let i = 0; i < 4; i++) {
      clock.step++;
      await cb.onBatchEnd(i, { loss });
    }
    expect(spy).not.toHaveBeenCalled();
    clock.step++;
    await cb.onBatchEnd(4, { loss });
    expect(spy).toHaveBeenCalledTimes(1);
    expect((await store.list())[0]!.metrics).toEqual({ loss: 1.5 });
    disposeAll(loss, model);
  });

  it('keeps the tensor count flat across fits that save', async () => {
    const model = compiled();
    const store = new MemorySnapshotStore({ retain: { last: 2 } });
    const schedule: Schedule = {
      name: 'every-other',
      lrAt: () => 0.05,
      collectsAt: (step) => step % 2 === 1,
    };
    const lr = scheduleCallback({ schedule });
    const cb = snapshotCallback({ store, schedule: lr, includeOptimizer: true });
    await model.fit(x, y, { ...fitArgs, epochs: 1, callbacks: [lr, cb] });
    const before = tf.memory().numTensors;
    await model.fit(x, y, { ...fitArgs, epochs: 3, callbacks: [lr, cb] });
    expect(tf.memory().numTensors).toBe(before);
    expect((await store.list()).map((e) => e.step)).toEqual([13, 15]);
    model.dispose();
  });

  it('resumes from the step of its schedule callback, with no count of its own', async () => {
    const store = new MemorySnapshotStore();
    const schedule = sseCosine({ lr0: 0.1, totalSteps: 40, cycles: 4 }); // collects after 9, 19, …
    const lr = scheduleCallback({ schedule, optimizer: tf.train.sgd(0.1), initialStep: 18 });
    const cb = snapshotCallback({ store, schedule: lr });
    const model = tinyModel();
    for (let i = 0; i < 2; i++) {
      lr.beforeUpdate(); // updates 18, 19 → save after 19
      await cb.afterUpdate(model);
    }
    lr.reset(29);
    lr.beforeUpdate(); // update 29 → save
    await cb.afterUpdate(model);
    expect((await store.list()).map((e) => e.step)).toEqual([19, 29]);
    model.dispose();
  });

  it('rejects malformed triggers', () => {
    const store = new MemorySnapshotStore();
    const noCollect: Schedule = { name: 'constant', lrAt: () => 0.1 };
    const lr = scheduleCallback({ schedule: sseCosine({ lr0: 0.1, totalSteps: 8, cycles: 2 }) });
    for (const trigger of [
      { schedule: noCollect },
      { schedule: scheduleCallback({ schedule: noCollect }) },
      { schedule: lr, every: { steps: 2 } },
      { every: { steps: 0 } },
      { every: { epochs: 1.5 } },
      { every: {} },
      {},
    ]) {
      expect(() => snapshotCallback({ store, ...trigger } as never)).toThrow(InvalidArgumentError);
    }
    expect(() => snapshotCallback({ every: { steps: 1 } } as never)).toThrow(/options\.store/);
  });
});
