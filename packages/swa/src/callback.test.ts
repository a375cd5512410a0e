import { InvalidArgumentError, readWeights } from '@onerun/core';
import { getOptimizerLearningRate, scheduleCallback, swaCyclic } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { WeightAverager } from './averager.js';
import { recomputeBatchNorm } from './batch-norm.js';
import { SwaCallback, swaCallback } from './callback.js';
import { MissingBatchNormDataError } from './errors.js';
import { Swag } from './swag.js';

/** Records the trainable weights (and the LR) after every update and every epoch. */
class Recorder extends tf.Callback {
  steps: number[][][] = [];
  epochs: number[][][] = [];
  rates: number[] = [];
  stats: number[][][] = [];
  override async onBatchEnd() {
    this.steps.push(snapshot(this.model));
    this.rates.push(getOptimizerLearningRate(this.model.optimizer));
  }
  override async onEpochEnd() {
    this.epochs.push(snapshot(this.model));
    this.stats.push(this.model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync())));
  }
}

function snapshot(model: tf.LayersModel): number[][] {
  const ws = readWeights(model, 'trainable');
  const out = ws.map((w) => Array.from(w.dataSync()));
  tf.dispose(ws);
  return out;
}

function mean(snaps: number[][][]): number[][] {
  return (snaps[0] as number[][]).map((w, i) =>
    w.map((_, j) => snaps.reduce((s, p) => s + (p[i]?.[j] as number), 0) / snaps.length),
  );
}

function expectClose(a: number[][], b: number[][], tol = 1e-5) {
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => {
    w.forEach((v, j) => {
      expect(Math.abs(v - (b[i]?.[j] as number))).toBeLessThanOrEqual(tol);
    });
  });
}

const held: { dispose(): void }[] = [];
afterEach(() => {
  for (const h of held.splice(0)) h.dispose();
});

function setup(bn = false, lr = 0.1) {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [2],
        units: 3,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      ...(bn ? [tf.layers.batchNormalization()] : []),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(lr), loss: 'meanSquaredError' });
  const xs = tf.tensor2d([
    [1, 2],
    [2, 1],
    [0, 1],
    [1, 0],
    [3, 1],
    [1, 3],
    [2, 2],
    [0, 0],
  ]);
  const ys = tf.tensor2d([[1], [0], [1], [0], [1], [0], [1], [0]]);
  const averager = new WeightAverager({ mode: 'swa' });
  held.push(model, xs, ys, averager);
  return { model, xs, ys, averager };
}

const fitArgs = { verbose: 0 as const, shuffle: false, yieldEvery: 'never' as const };

describe('swaCallback', () => {
  it('averages at epoch ends from start, then writes the mean into the model', async () => {
    const { model, xs, ys, averager } = setup();
    const rec = new Recorder();
    const cb = swaCallback({ averager, start: { epoch: 2 }, every: { epochs: 1 } });
    await model.fit(xs, ys, { ...fitArgs, epochs: 5, batchSize: 4, callbacks: [rec, cb] });
    expect(averager.count).toBe(4); // after epochs 2, 3, 4, 5
    expect(model.optimizer.iterations).toBe(10); // the step source the callback reads
    expectClose(snapshot(model), mean(rec.epochs.slice(1)));
    expect(cb.lastFinalize).toEqual({ written: true, count: 4 });
  });

  it('feeds a Swag the same iterates, then writes its mean and recomputes batch norm', async () => {
    const { model, xs, ys } = setup(true);
    const swag = new Swag({ rank: 3 });
    held.push(swag);
    const rec = new Recorder();
    const cb = swaCallback({
      averager: swag,
      start: { epoch: 2 },
      every: { epochs: 1 },
      bnData: xs,
      bnBatchSize: 4,
    });
    await model.fit(xs, ys, { ...fitArgs, epochs: 5, batchSize: 4, callbacks: [rec, cb] });
    expect([swag.count, swag.columns]).toEqual([4, 3]);
    expectClose(snapshot(model), mean(rec.epochs.slice(1)));
    expect(cb.lastFinalize).toEqual({
      written: true,
      count: 4,
      batchNorm: { layers: 1, examples: 8, batches: 2 },
    });
    expect(() => swaCallback({ averager: {} as never, start: { epoch: 1 } })).toThrow(
      /an Averager \(a WeightAverager or a Swag\)/,
    );
  });

  it('averages every N updates from a start step (counted from start)', async () => {
    const { model, xs, ys, averager } = setup();
    const rec = new Recorder();
    const cb = swaCallback({ averager, start: { step: 3 }, every: { steps: 2 } });
    await model.fit(xs, ys, { ...fitArgs, epochs: 5, batchSize: 4, callbacks: [rec, cb] });
    // 10 updates; folded in after updates 3, 5, 7, 9 (1-based).
    expect(averager.count).toBe(4);
    expectClose(snapshot(model), mean([2, 4, 6, 8].map((i) => rec.steps[i] as number[][])));
  });

  it('reads the step from the schedule callback: averages at cycle ends across fit calls', async () => {
    const { model, xs, ys, averager } = setup();
    const schedule = swaCyclic({ lr1: 0.05, lr2: 0.01, cycleSteps: 3 });
    const rec = new Recorder();
    const lr = scheduleCallback({ schedule });
    const cb = swaCallback({ averager, start: { step: 0 }, schedule: lr, writeAverage: false });
    await model.fit(xs, ys, { ...fitArgs, epochs: 2, batchSize: 2, callbacks: [lr, rec, cb] });
    expect(rec.rates).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((s) => schedule.lrAt(s)));
    expect(averager.count).toBe(2); // after updates 3 and 6
    const before = snapshot(model);
    expectClose(snapshot(model), rec.steps[7] as number[][], 0); // writeAverage: false
    await model.fit(xs, ys, { ...fitArgs, epochs: 1, batchSize: 2, callbacks: [lr, rec, cb] });
    expect(rec.rates.slice(8)).toEqual([8, 9, 10, 11].map((s) => schedule.lrAt(s)));
    expect(averager.count).toBe(4); // after updates 9 and 12
    expect(before).not.toEqual(snapshot(model));
    const result = await cb.finalize();
    expect(result).toEqual({ written: true, count: 4 });
    expectClose(snapshot(model), mean([2, 5, 8, 11].map((i) => rec.steps[i] as number[][])));
  });

  it('refuses a batch-norm model without bnData before training, unless told to allow it', async () => {
    const { model, xs, ys, averager } = setup(true);
    const before = snapshot(model);
    const cb = swaCallback({ averager, start: { epoch: 1 } });
    const err = await model
      .fit(xs, ys, { ...fitArgs, epochs: 2, callbacks: [cb] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingBatchNormDataError);
    expect((err as MissingBatchNormDataError).layers).toEqual([model.layers[1]?.name]);
    expect(snapshot(model)).toEqual(before); // nothing trained, nothing averaged
    expect(averager.count).toBe(0);

    const rec = new Recorder();
    const optOut = swaCallback({ averager, start: { epoch: 1 }, allowStaleBatchNorm: true });
    await model.fit(xs, ys, { ...fitArgs, epochs: 3, batchSize: 4, callbacks: [rec, optOut] });
    expect(averager.count).toBe(3);
    expectClose(snapshot(model), mean(rec.epochs));
    // Moving statistics are still the last iterate's.
    expect(model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()))).toEqual(
      rec.stats[2],
    );
  });

  it('recomputes batch-norm statistics from bnData after writing the average', async () => {
    const { model, xs, ys, averager } = setup(true);
    const rec = new Recorder();
    const cb = swaCallback({ averager, start: { epoch: 2 }, bnData: xs, bnBatchSize: 3 });
    await model.fit(xs, ys, { ...fitArgs, epochs: 4, batchSize: 4, callbacks: [rec, cb] });
    expect(cb.lastFinalize).toEqual({
      written: true,
      count: 3,
      batchNorm: { layers: 1, examples: 8, batches: 3 },
    });
    const written = model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
    expect(written).not.toEqual(rec.stats[3]);
    await recomputeBatchNorm(model, xs, { batchSize: 3 });
    expectClose(
      model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync())),
      written,
      1e-6,
    );
  });

  it('resumes mid-run from one initialStep: new callbacks average at the same points', async () => {
    const schedule = swaCyclic({ lr1: 0.05, lr2: 0.01, cycleSteps: 3 });
    // Uninterrupted: 2 fits of 4 updates (batch 2 of 8 examples), cycle ends after 3 and 6.
    const a = setup();
    const recA = new Recorder();
    const lrA = scheduleCallback({ schedule });
    const swaA = swaCallback({ averager: a.averager, schedule: lrA, start: { step: 0 } });
    await a.model.fit(a.xs, a.ys, {
      ...fitArgs,
      epochs: 2,
      batchSize: 2,
      callbacks: [lrA, recA, swaA],
    });
    // Interrupted after epoch 1: fresh callbacks, and the step given once, to the schedule.
    const b = setup();
    const recB = new Recorder();
    const lr1 = scheduleCallback({ schedule });
    const swa1 = swaCallback({
      averager: b.averager,
      schedule: lr1,
      start: { step: 0 },
      writeAverage: false,
    });
    await b.model.fit(b.xs, b.ys, {
      ...fitArgs,
      epochs: 1,
      batchSize: 2,
      callbacks: [lr1, recB, swa1],
    });
    const lr2 = scheduleCallback({ schedule, initialStep: lr1.step });
    const swa2 = swaCallback({ averager: b.averager, schedule: lr2, start: { step: 0 } });
    await b.model.fit(b.xs, b.ys, {
      ...fitArgs,
      initialEpoch: 1,
      epochs: 2,
      batchSize: 2,
      callbacks: [lr2, recB, swa2],
    });
    expect(recB.rates).toEqual(recA.rates);
    expect([a.averager.count, b.averager.count]).toEqual([2, 2]);
    expectClose(snapshot(b.model), snapshot(a.model), 1e-7);
    expectClose(snapshot(a.model), mean([2, 5].map((i) => recA.steps[i] as number[][])));
  });

  it('validates its options', async () => {
    const averager = new WeightAverager({ mode: 'swa' });
    held.push(averager);
    expect(() => swaCallback({ averager } as never)).toThrow(InvalidArgumentError);
    expect(() => swaCallback({ averager, start: { epoch: -1 } })).toThrow(InvalidArgumentError);
    expect(() => swaCallback({ averager, start: { step: 0 }, every: 'cycle' })).toThrow(
      InvalidArgumentError,
    );
    expect(() => swaCallback({ averager, start: { step: 0 }, every: { steps: 0 } })).toThrow(
      InvalidArgumentError,
    );
    expect(() => swaCallback({ averager: {} as never, start: { step: 0 } })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      swaCallback({
        averager,
        start: { step: 0 },
        schedule: swaCyclic({ lr1: 1, lr2: 0.1, cycleSteps: 2 }) as never,
      }),
    ).toThrow(/the scheduleCallback driving the rate/);
    const cb = swaCallback({ averager, start: { step: 0 } });
    expect(cb).toBeInstanceOf(SwaCallback);
    await expect(cb.finalize()).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
