import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { constant } from './constant.js';
import { ScheduleEndedError } from './errors.js';
import { getOptimizerLearningRate } from './learning-rate.js';
import { scheduleCallback } from './schedule-callback.js';
import { sseCosine } from './sse-cosine.js';
import { swaCyclic } from './swa-cyclic.js';
import { updatesDone } from './updates-done.js';

// A linear model y = x·w under mean squared error has the gradient g = (2/n)·Xᵀ(Xw − y), computed
// here in float64 from the weights recorded before each update. Each optimizer's update, read from
// tfjs-core 4.22 `dist/optimizers/*.js`, is `Δw = lr · u` with `u` independent of lr, so the rate
// the optimizer actually used is `Δw / u`, elementwise. Optimizers start at lr 0.5, far from the
// schedule, so a callback that did not set the rate would be caught.

const X = [
  [1, 2, -1],
  [0.5, -1, 2],
  [-1, 0.3, 0.7],
  [2, 1, 1],
  [0.2, -0.4, 1.5],
  [-0.7, 1.1, 0.3],
  [1.3, 0.2, -0.8],
  [0.9, -1.2, -0.5],
];
const Y = [[1], [-2], [0.5], [3], [0.1], [-1], [2], [0.7]];
const W0 = [0.3, -0.2, 0.5];
const BATCH = 4; // two batches per epoch, shuffle off

/** u_k (the update at lr = 1) per element, given the gradient, with the optimizer's own state. */
type Unit = (g: number[]) => number[];
const EPS = 1e-7; // the cpu backend's epsilon(), which tfjs uses where none is given

const units: Record<string, { make: () => tf.Optimizer; unit: () => Unit }> = {
  SGD: { make: () => tf.train.sgd(0.5), unit: () => (g) => g.map((v) => -v) },
  Momentum: {
    make: () => tf.train.momentum(0.5, 0.9),
    unit: () => {
      let acc: number[] | undefined; // accumulation = m·accumulation + g; Δw = −lr·accumulation
      return (g) => {
        acc = g.map((v, j) => 0.9 * (acc?.[j] ?? 0) + v);
        return acc.map((v) => -v);
      };
    },
  },
  Adam: {
    make: () => tf.train.adam(0.5, 0.9, 0.999, EPS),
    unit: () => {
      let m = [0, 0, 0];
      let v = [0, 0, 0];
      let t = 0; // m̂ = m/(1−β1^t), v̂ = v/(1−β2^t); Δw = −lr·m̂/(√v̂ + ε)
      return (g) => {
        t++;
        m = m.map((x, j) => 0.9 * x + 0.1 * g[j]!);
        v = v.map((x, j) => 0.999 * x + 0.001 * g[j]! ** 2);
        return m.map((x, j) => -(x / (1 - 0.9 ** t)) / (Math.sqrt(v[j]! / (1 - 0.999 ** t)) + EPS));
      };
    },
  },
  Adamax: {
    make: () => tf.train.adamax(0.5, 0.9, 0.999, EPS, 0),
    unit: () => {
      let m = [0, 0, 0];
      let u = [0, 0, 0];
      let t = 0; // u = max(β2·u, |g|); Δw = −lr/(1−β1^t) · m/(u + ε)
      return (g) => {
        t++;
        m = m.map((x, j) => 0.9 * x + 0.1 * g[j]!);
        u = u.map((x, j) => Math.max(0.999 * x, Math.abs(g[j]!)));
        return m.map((x, j) => -(1 / (1 - 0.9 ** t)) * (x / (u[j]! + EPS)));
      };
    },
  },
  RMSProp: {
    make: () => tf.train.rmsprop(0.5, 0.9, 0, EPS),
    unit: () => {
      let ms = [0, 0, 0]; // ms = ρ·ms + (1−ρ)g²; momentum 0: Δw = −lr·g/√(ms + ε)
      return (g) => {
        ms = ms.map((x, j) => 0.9 * x + 0.1 * g[j]! ** 2);
        return g.map((x, j) => -x / Math.sqrt(ms[j]! + EPS));
      };
    },
  },
  Adagrad: {
    make: () => tf.train.adagrad(0.5, 0.1),
    unit: () => {
      let acc = [0.1, 0.1, 0.1]; // acc += g²; Δw = −lr·g/√(acc + ε)
      return (g) => {
        acc = acc.map((x, j) => x + g[j]! ** 2);
        return g.map((x, j) => -x / Math.sqrt(acc[j]! + EPS));
      };
    },
  },
  Adadelta: {
    make: () => tf.train.adadelta(0.5, 0.95, EPS),
    unit: () => {
      let accG = [0, 0, 0];
      let accU = [0, 0, 0];
      // tfjs scales by the accumulated gradient from BEFORE this step:
      // upd = √(accU + ε)/√(accG_old + ε)·g; then accG, accU updated; Δw = −lr·upd.
      return (g) => {
        const upd = g.map((x, j) => (Math.sqrt(accU[j]! + EPS) / Math.sqrt(accG[j]! + EPS)) * x);
        accG = accG.map((x, j) => 0.95 * x + 0.05 * g[j]! ** 2);
        accU = accU.map((x, j) => 0.95 * x + 0.05 * upd[j]! ** 2);
        return upd.map((x) => -x);
      };
    },
  },
};

function gradient(w: number[], rows: number[][], ys: number[]): number[] {
  const n = rows.length;
  const g = [0, 0, 0];
  rows.forEach((x, r) => {
    const err = x.reduce((acc, xi, j) => acc + xi * w[j]!, 0) - ys[r]!;
    for (let j = 0; j < 3; j++) g[j]! += (2 / n) * err * x[j]!;
  });
  return g;
}

/** Records the kernel before and after every batch (test only: it syncs). */
class Recorder extends tf.Callback {
  readonly steps: { batch: number; before: number[]; after?: number[] }[] = [];
  private kernel(): number[] {
    return Array.from(this.model.getWeights()[0]!.dataSync());
  }
  override async onBatchBegin(batch: number): Promise<void> {
    this.steps.push({ batch, before: this.kernel() });
  }
  override async onBatchEnd(): Promise<void> {
    this.steps[this.steps.length - 1]!.after = this.kernel();
  }
}

function linearModel(optimizer: tf.Optimizer): tf.Sequential {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 1, useBias: false })],
  });
  model.setWeights([tf.tensor2d(W0, [3, 1])]);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  return model;
}

const models: tf.LayersModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) {
    m.optimizer?.dispose();
    m.dispose();
  }
});

describe('scheduleCallback with model.fit', () => {
  it.each(Object.keys(units))(
    '%s uses the scheduled rate at every step, counting across two fit calls',
    async (name) => {
      const spec = units[name]!;
      const optimizer = spec.make();
      const model = linearModel(optimizer);
      models.push(model);
      // Four updates (2 fits × 2 batches), rates 0.1, 0.0854, 0.05, 0.0146: all distinct.
      const schedule = sseCosine({ lr0: 0.1, totalSteps: 4, cycles: 1 });
      const cb = scheduleCallback({ optimizer, schedule });
      const recorder = new Recorder();
      const xs = tf.tensor2d(X);
      const ys = tf.tensor2d(Y);
      const fitArgs = {
        epochs: 1,
        batchSize: BATCH,
        shuffle: false,
        verbose: 0,
        callbacks: [cb, recorder],
      };
      await model.fit(xs, ys, fitArgs);
      expect(cb.step).toBe(2);
      await model.fit(xs, ys, fitArgs);
      expect(cb.step).toBe(4);
      xs.dispose();
      ys.dispose();

      const unit = spec.unit();
      const used = recorder.steps.map(({ batch, before, after }) => {
        const rows = X.slice(batch * BATCH, (batch + 1) * BATCH);
        const u = unit(
          gradient(
            before,
            rows,
            Y.slice(batch * BATCH, (batch + 1) * BATCH).map((y) => y[0]!),
          ),
        );
        const scale = Math.max(...u.map(Math.abs));
        // The rate each weight implies; skip elements whose update is too small to measure.
        return u.flatMap((uj, j) =>
          Math.abs(uj) > 1e-2 * scale ? [(after![j]! - before[j]!) / uj] : [],
        );
      });
      expect(used).toHaveLength(4);
      used.forEach((rates, step) => {
        expect(rates.length).toBeGreaterThan(0);
        for (const lr of rates) expect(Math.abs(lr / schedule.lrAt(step) - 1)).toBeLessThan(2e-3);
      });
      expect(getOptimizerLearningRate(optimizer)).toBe(schedule.lrAt(3));
      expect(cb.lastLearningRate).toBe(schedule.lrAt(3));
    },
  );

  it('stops fit with ScheduleEndedError past the end of a finite schedule', async () => {
    const optimizer = tf.train.sgd(0.5);
    const model = linearModel(optimizer);
    models.push(model);
    const cb = scheduleCallback({
      optimizer,
      schedule: sseCosine({ lr0: 0.1, totalSteps: 3, cycles: 1 }),
    });
    const xs = tf.tensor2d(X);
    const ys = tf.tensor2d(Y);
    await expect(
      model.fit(xs, ys, { epochs: 2, batchSize: BATCH, verbose: 0, callbacks: [cb] }),
    ).rejects.toThrow(ScheduleEndedError);
    expect(cb.step).toBe(3);
    tf.dispose([xs, ys]);
  });

  it('refuses to drive an optimizer the model does not use', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    models.push(model);
    const other = tf.train.sgd(0.1);
    const cb = scheduleCallback({ optimizer: other, schedule: constant(0.01) });
    const xs = tf.tensor2d(X);
    const ys = tf.tensor2d(Y);
    await expect(model.fit(xs, ys, { epochs: 1, verbose: 0, callbacks: [cb] })).rejects.toThrow(
      /the optimizer the model was compiled with/,
    );
    expect(cb.step).toBe(0);
    tf.dispose([xs, ys]);
    other.dispose();
  });

  it('keeps the tensor count flat over repeated fits', async () => {
    const optimizer = tf.train.momentum(0.1, 0.9);
    const model = linearModel(optimizer);
    models.push(model);
    const cb = scheduleCallback({
      optimizer,
      schedule: swaCyclic({ lr1: 0.05, lr2: 0.001, cycleSteps: 3 }),
    });
    const xs = tf.tensor2d(X);
    const ys = tf.tensor2d(Y);
    const args = { epochs: 3, batchSize: 2, shuffle: false, verbose: 0, callbacks: [cb] };
    await model.fit(xs, ys, args); // creates the optimizer's slots
    const after1 = tf.memory().numTensors;
    await model.fit(xs, ys, args);
    await model.fit(xs, ys, args);
    expect(tf.memory().numTensors).toBe(after1);
    expect(cb.step).toBe(36);
    tf.dispose([xs, ys]);
  });
});

describe('ScheduleCallback in a custom loop', () => {
  it('beforeUpdate sets the rate for the current step and advances; reset resumes', () => {
    const optimizer = tf.train.sgd(0.5);
    const schedule = sseCosine({ lr0: 0.2, totalSteps: 10, cycles: 2 });
    const cb = scheduleCallback({ optimizer, schedule, initialStep: 3 });
    expect(cb.step).toBe(3);
    expect(cb.lastLearningRate).toBeUndefined();
    const w = tf.variable(tf.tensor1d([1, -2]));
    const target = tf.tensor1d([0.5, 0.5]);
    const lr = cb.beforeUpdate();
    expect(lr).toBe(schedule.lrAt(3));
    expect(cb.step).toBe(4);
    // Δw = −lr · ∂/∂w Σ(w − target)² = −lr · 2(w − target)
    optimizer.minimize(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar);
    const expected = [1 - lr * 2 * 0.5, -2 - lr * 2 * -2.5];
    for (const [j, v] of Array.from(w.dataSync()).entries()) expect(v).toBeCloseTo(expected[j]!, 6);

    cb.reset(9);
    expect(cb.beforeUpdate()).toBe(schedule.lrAt(9));
    expect(() => cb.beforeUpdate()).toThrow(ScheduleEndedError);
    expect(cb.step).toBe(10);
    expect(() => cb.reset(11)).toThrow(/step: got 11; expected an integer in \[0, 10\]/);
    expect(() => cb.reset(-1)).toThrow(InvalidArgumentError);
    expect(() => scheduleCallback({ optimizer, schedule, initialStep: 2.5 })).toThrow(
      /initialStep: got 2\.5/,
    );
    tf.dispose([w, target]);
    optimizer.dispose();
  });

  it('refuses an optimizer it cannot drive when it is built', () => {
    expect(() => scheduleCallback({ optimizer: {} as never, schedule: constant(0.1) })).toThrow(
      /expected a tfjs Optimizer/,
    );
    expect(() =>
      scheduleCallback({ optimizer: tf.train.sgd(0.1), schedule: { name: 'x' } as never }),
    ).toThrow(/schedule: got an object/);
  });
});

describe('updatesDone', () => {
  it('reads the schedule callback, else the optimizer count, else says what is missing', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    expect(() => updatesDone(model)).toThrow(InvalidArgumentError);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const x = tf.ones([2, 1]);
    await model.trainOnBatch(x, x);
    await model.trainOnBatch(x, x);
    expect(updatesDone(model)).toBe(2);
    const lr = scheduleCallback({ schedule: constant(0.1), initialStep: 7 });
    expect(updatesDone(model, lr)).toBe(7);
    x.dispose();
    model.dispose();
  });
});
