import {
  DisposedError,
  InvalidArgumentError,
  NonFiniteError,
  readWeights,
  WeightMismatchError,
  writeWeights,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { WeightAverager } from './averager.js';
import { EmptyAverageError } from './errors.js';
import { Swag } from './swag.js';

function mlp(seed: number, bn = false): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 10 + s });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [3],
        units: 4,
        kernelInitializer: init(1),
        biasInitializer: tf.initializers.randomNormal({ seed: seed * 10 + 2 }),
      }),
      ...(bn ? [tf.layers.batchNormalization()] : []),
      tf.layers.dense({ units: 2, kernelInitializer: init(3) }),
    ],
  });
}

const arrays = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
const weightArrays = (m: tf.LayersModel, which: 'all' | 'trainable' = 'trainable') =>
  (which === 'all' ? m.weights : m.trainableWeights).map((w) => Array.from(w.read().dataSync()));

function expectClose(actual: number[][], expected: number[][], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as number[];
    expect(a.length).toBe(e.length);
    a.forEach((v, j) => {
      expect(Math.abs(v - (e[j] as number))).toBeLessThanOrEqual(tol);
    });
  });
}

const models: tf.LayersModel[] = [];
function track(m: tf.LayersModel): tf.LayersModel {
  models.push(m);
  return m;
}
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

describe('WeightAverager (swa)', () => {
  it('averages N models to their arithmetic mean (computed in float64 by hand)', async () => {
    const members = [1, 2, 3, 4, 5].map((s) => track(mlp(s)));
    const avg = new WeightAverager({ mode: 'swa' });
    for (const m of members) await avg.update(m);
    expect(avg.count).toBe(5);
    const per = members.map((m) => weightArrays(m));
    const expected = (per[0] as number[][]).map((w, i) =>
      w.map((_, j) => per.reduce((s, p) => s + (p[i]?.[j] as number), 0) / per.length),
    );
    const target = track(mlp(9));
    avg.copyTo(target);
    expectClose(weightArrays(target), expected, 1e-6);
    const got = avg.average();
    expectClose(arrays(got), expected, 1e-6);
    tf.dispose(got);
    avg.dispose();
  });

  it('the first update copies', async () => {
    const m = track(mlp(1));
    const avg = new WeightAverager({ mode: 'ema', decay: 0.9 });
    await avg.update(m);
    const got = avg.average();
    expectClose(arrays(got), weightArrays(m), 0);
    tf.dispose(got);
    avg.dispose();
  });

  it('averages only trainable weights by default and leaves moving statistics alone', async () => {
    const a = track(mlp(1, true));
    const b = track(mlp(2, true));
    const stats = tf.tensor1d([0.5, -1, 2, 3]);
    a.layers[1]?.setWeights([
      ...(a.layers[1]?.getWeights().slice(0, 2) ?? []),
      stats,
      tf.onesLike(stats),
    ]);
    const avg = new WeightAverager({ mode: 'swa' });
    await avg.update(a);
    expect(avg.specs?.map((s) => s.name).some((n) => n.includes('moving'))).toBe(false);
    avg.copyTo(b);
    expect(Array.from(b.layers[1]?.getWeights()[2]?.dataSync() ?? [])).toEqual([0, 0, 0, 0]);
    const all = new WeightAverager({ mode: 'swa', which: 'all' });
    await all.update(a);
    all.copyTo(b);
    expect(Array.from(b.layers[1]?.getWeights()[2]?.dataSync() ?? [])).toEqual([0.5, -1, 2, 3]);
    stats.dispose();
    avg.dispose();
    all.dispose();
  });

  it('works on nested models', async () => {
    const build = (seed: number) => {
      const inner = mlp(seed, true);
      const input = tf.input({ shape: [3] });
      const h = inner.apply(input) as tf.SymbolicTensor;
      const out = tf.layers
        .dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed }) })
        .apply(h) as tf.SymbolicTensor;
      return track(tf.model({ inputs: input, outputs: out }));
    };
    const x = build(1);
    const y = build(2);
    const avg = new WeightAverager({ mode: 'swa' });
    await avg.update(x);
    await avg.update(y);
    const expected = weightArrays(x).map((w, i) =>
      w.map((v, j) => (v + (weightArrays(y)[i]?.[j] as number)) / 2),
    );
    expect(expected.length).toBe(x.trainableWeights.length);
    expect(expected.length).toBe(6 + 2); // inner: 2 dense (kernel+bias) + BN gamma/beta; outer dense
    const z = build(3);
    avg.copyTo(z);
    expectClose(weightArrays(z), expected, 1e-6);
    avg.dispose();
  });
});

describe('WeightAverager (ema, custom)', () => {
  it('follows the EMA recurrence w ← d·w + (1 − d)·x', async () => {
    const d = 0.75;
    const m = track(mlp(1));
    const avg = new WeightAverager({ mode: 'ema', decay: d });
    let expected: number[][] | null = null;
    for (let step = 0; step < 6; step++) {
      const values = m.trainableWeights.map((w, i) =>
        tf.randomNormal(w.shape as number[], step, 1, 'float32', 100 * step + i),
      );
      writeWeights(m, values, 'trainable');
      const x = arrays(values);
      tf.dispose(values);
      expected =
        expected === null
          ? x
          : expected.map((w, i) => w.map((v, j) => d * v + (1 - d) * (x[i]?.[j] as number)));
      await avg.update(m);
    }
    const got = avg.average();
    expectClose(arrays(got), expected as number[][], 1e-5);
    tf.dispose(got);
    avg.dispose();
  });

  it('applies a custom rule average(avg, current, count)', async () => {
    const counts: number[] = [];
    const avg = new WeightAverager({
      mode: 'custom',
      average: (a, c, n) => {
        counts.push(n);
        return tf.maximum(a, c);
      },
    });
    const members = [1, 2, 3].map((s) => track(mlp(s)));
    for (const m of members) await avg.update(m);
    const per = members.map((m) => weightArrays(m));
    const expected = (per[0] as number[][]).map((w, i) =>
      w.map((_, j) => Math.max(...per.map((p) => p[i]?.[j] as number))),
    );
    const got = avg.average();
    expectClose(arrays(got), expected, 0);
    tf.dispose(got);
    // Called once per weight tensor for updates 2 and 3, with the count before the update.
    expect(counts).toEqual([...Array(4).fill(1), ...Array(4).fill(2)]);
    avg.dispose();
  });

  it('rejects invalid options', () => {
    expect(() => new WeightAverager({ mode: 'ema', decay: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new WeightAverager({ mode: 'mean' } as never)).toThrow(InvalidArgumentError);
    expect(() => new WeightAverager({ mode: 'custom' } as never)).toThrow(InvalidArgumentError);
    expect(() => new WeightAverager({ mode: 'swa', which: 'non-trainable' } as never)).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('WeightAverager safety', () => {
  it.each([NaN, Number.POSITIVE_INFINITY])(
    'rejects a non-finite update (%s) and keeps the average',
    async (bad) => {
      const a = track(mlp(1));
      const b = track(mlp(2));
      const avg = new WeightAverager({ mode: 'swa' });
      await avg.update(a);
      await avg.update(b);
      const before = arrays(avg.average());
      const values = readWeights(b, 'trainable');
      const k = values[2] as tf.Tensor;
      const poisoned = tf.tidy(() =>
        tf.where(tf.equal(tf.range(0, k.size).reshape(k.shape), 3), tf.fill(k.shape, bad), k),
      );
      values[2] = poisoned;
      writeWeights(b, values, 'trainable');
      tf.dispose([...values, k]);
      const err = await avg.update(b).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteError);
      expect(String((err as Error).message)).toContain(b.trainableWeights[2]?.originalName);
      expect(avg.count).toBe(2);
      const after = avg.average();
      expectClose(arrays(after), before, 0);
      tf.dispose(after);
      // The averager is still usable afterwards.
      await avg.update(a);
      expect(avg.count).toBe(3);
      avg.dispose();
    },
  );

  it('folds non-finite weights in when checkFinite is false (one add, no read-back)', async () => {
    const m = track(mlp(1));
    const avg = new WeightAverager({ mode: 'swa', checkFinite: false });
    await avg.update(m);
    const values = readWeights(m, 'trainable');
    const nan = tf.fill(values[0]?.shape as number[], Number.NaN);
    writeWeights(m, [nan, ...values.slice(1)], 'trainable');
    tf.dispose([nan, ...values]);
    await avg.update(m);
    expect(avg.count).toBe(2);
    const got = avg.average();
    expect(Number.isNaN(got[0]?.dataSync()[0])).toBe(true);
    tf.dispose(got);
    avg.dispose();
  });

  it('accepts huge but finite weights whose sum overflows float32', async () => {
    const m = track(
      tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1, useBias: false })] }),
    );
    const big = tf.fill([4, 1], 3e38);
    m.layers[0]?.setWeights([big]);
    big.dispose();
    const avg = new WeightAverager({ mode: 'ema', decay: 0.5 });
    await avg.update(m);
    await avg.update(m);
    expect(avg.count).toBe(2);
    const got = avg.average();
    expect(Array.from(got[0]?.dataSync() ?? [])).toEqual(Array(4).fill(Math.fround(3e38)));
    tf.dispose(got);
    avg.dispose();
  });

  it('keeps tf.memory().numTensors flat over 1,000 updates', async () => {
    const m = track(mlp(1, true));
    const avg = new WeightAverager({ mode: 'swa' });
    await avg.update(m);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) await avg.update(m);
    expect(tf.memory().numTensors).toBe(before);
    expect(avg.count).toBe(1001);
    const ema = new WeightAverager({ mode: 'ema', decay: 0.99 });
    await ema.update(m);
    const before2 = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) await ema.update(m);
    expect(tf.memory().numTensors).toBe(before2);
    avg.dispose();
    ema.dispose();
  });

  it('round-trips its state (SWA and EMA) and continues as the original', async () => {
    for (const options of [{ mode: 'swa' as const }, { mode: 'ema' as const, decay: 0.6 }]) {
      const [m1, m2, m3] = [1, 2, 3].map((s) => track(mlp(s)));
      const original = new WeightAverager(options);
      await original.update(m1 as tf.LayersModel);
      await original.update(m2 as tf.LayersModel);
      const state = original.getState();
      expect(state.count).toBe(2);
      const resumed = WeightAverager.fromState(state);
      tf.dispose([...state.tensors, ...(state.sum ?? [])]);
      await original.update(m3 as tf.LayersModel);
      await resumed.update(m3 as tf.LayersModel);
      expect(resumed.count).toBe(3);
      const [a, b] = [original.average(), resumed.average()];
      expectClose(arrays(b), arrays(a), 1e-6);
      tf.dispose([...a, ...b]);
      original.dispose();
      resumed.dispose();
    }
  });

  it('issue 28 defect 10: a SWA state resumes bit-exactly at any count, not only powers of two', async () => {
    const models = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => track(mlp(s)));
    for (const at of [3, 5, 7]) {
      const straight = new WeightAverager({ mode: 'swa' });
      const cut = new WeightAverager({ mode: 'swa' });
      for (const m of models.slice(0, at)) {
        await straight.update(m);
        await cut.update(m);
      }
      const state = cut.getState();
      cut.dispose();
      const resumed = WeightAverager.fromState(state);
      tf.dispose([...state.tensors, ...(state.sum ?? [])]);
      for (const m of models.slice(at)) {
        await straight.update(m);
        await resumed.update(m);
      }
      const [a, b] = [straight.average(), resumed.average()];
      expect(arrays(b), `resumed at ${at}`).toEqual(arrays(a));
      tf.dispose([...a, ...b]);
      straight.dispose();
      resumed.dispose();
    }
  });

  it('reads a state without its sum (saved before it was added) from the mean, as before', async () => {
    const [m1, m2, m3] = [1, 2, 3].map((s) => track(mlp(s)));
    const original = new WeightAverager({ mode: 'swa' });
    for (const m of [m1, m2, m3]) await original.update(m as tf.LayersModel);
    const { sum, ...old } = original.getState();
    tf.dispose(sum ?? []);
    const resumed = WeightAverager.fromState(old);
    const [a, b] = [original.average(), resumed.average()];
    expectClose(arrays(b), arrays(a), 1e-6);
    tf.dispose([...a, ...b, ...old.tensors]);
    original.dispose();
    resumed.dispose();
  });

  it('throws typed errors on misuse', async () => {
    const avg = new WeightAverager({ mode: 'swa' });
    const m = track(mlp(1));
    expect(() => avg.copyTo(m)).toThrow(EmptyAverageError);
    expect(() => avg.getState()).toThrow(EmptyAverageError);
    await avg.update(m);
    const other = track(
      tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 5 })] }),
    );
    await expect(avg.update(other)).rejects.toBeInstanceOf(WeightMismatchError);
    expect(() => avg.copyTo(other)).toThrow(WeightMismatchError);
    avg.dispose();
    await expect(avg.update(m)).rejects.toThrow(
      /WeightAverager\.update was called on a disposed WeightAverager/,
    );
    await expect(avg.update(m)).rejects.toBeInstanceOf(DisposedError);
  });
});

describe('overlapping updates (WeightAverager and Swag)', () => {
  // Three un-awaited updates, the model's weights changed between the calls: each update must
  // fold in the weights as they were at its call, in call order.
  async function threeUnawaited(averager: WeightAverager | Swag, model: tf.LayersModel) {
    const seen: number[][][] = [];
    const pending: Promise<void>[] = [];
    for (const s of [1, 2, 3]) {
      const donor = mlp(s * 7);
      const ws = readWeights(donor, 'trainable');
      writeWeights(model, ws, 'trainable');
      tf.dispose(ws);
      donor.dispose();
      seen.push(weightArrays(model));
      pending.push(averager.update(model));
    }
    // The model moves on before any update has settled.
    const zeros = model.trainableWeights.map((w) => tf.zeros(w.shape as number[]));
    writeWeights(model, zeros, 'trainable');
    tf.dispose(zeros);
    await Promise.all(pending);
    return seen.map((w) => w);
  }

  const meanOf = (runs: number[][][]) =>
    (runs[0] as number[][]).map((w, i) =>
      w.map((_, j) => runs.reduce((sum, r) => sum + (r[i]?.[j] as number), 0) / runs.length),
    );

  it('WeightAverager: count 3 and the exact mean of the weights at each call', async () => {
    const model = track(mlp(1));
    const out = track(mlp(9));
    const avg = new WeightAverager({ mode: 'swa' });
    const before = tf.memory().numTensors;
    const seen = await threeUnawaited(avg, model);
    expect(avg.count).toBe(3);
    avg.copyTo(out);
    expectClose(weightArrays(out), meanOf(seen));
    avg.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Swag: count 3 and the exact mean, with a failing update in between skipped', async () => {
    const model = track(mlp(1));
    const swag = new Swag({ rank: 2 });
    const seen = await threeUnawaited(swag, model);
    expect(swag.count).toBe(3);
    const out = track(mlp(9));
    swag.copyTo(out);
    expectClose(weightArrays(out), meanOf(seen));
    // A rejected update does not stop the ones queued after it.
    const bad = track(tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 5 })] }));
    const results = await Promise.allSettled([swag.update(bad), swag.update(model)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(swag.count).toBe(4);
    swag.dispose();
  });
});
