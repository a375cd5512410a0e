import {
  DisposedError,
  InvalidArgumentError,
  NonFiniteError,
  WeightMismatchError,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { EmptyAverageError } from './errors.js';
import { Swag } from './swag.js';

/** Dense 2 → 1: three parameters (kernel [2, 1], bias [1]), set by hand below. */
function tinyDense(): tf.LayersModel {
  return tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
}

/** Dense 16 → 16 without bias: 256 seeded parameters. */
function wideDense(): tf.LayersModel {
  const kernelInitializer = tf.initializers.glorotUniform({ seed: 3 });
  return tf.sequential({
    layers: [tf.layers.dense({ inputShape: [16], units: 16, useBias: false, kernelInitializer })],
  });
}

function setParams(model: tf.LayersModel, p: readonly number[]): void {
  const values = [tf.tensor2d([[p[0] as number], [p[1] as number]]), tf.tensor1d([p[2] as number])];
  model.setWeights(values);
  tf.dispose(values);
}

async function flat(tensors: tf.Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of tensors) out.push(...(await t.data()));
  tf.dispose(tensors);
  return out;
}

// Five iterates of the three parameters.
const ITERATES = [
  [1, -2, 0.5],
  [3, 0, 0.25],
  [2, -1, 1.5],
  [0, 1, 0.75],
  [4, -3, 1],
];

/** Hand-computed SWAG statistics of the first `t` iterates with `rank` deviation columns. */
function expected(t: number, rank: number) {
  const its = ITERATES.slice(0, t);
  const mean = [0, 1, 2].map((j) => its.reduce((s, w) => s + (w[j] as number), 0) / t);
  const variance = [0, 1, 2].map(
    (j) => its.reduce((s, w) => s + (w[j] as number) ** 2, 0) / t - (mean[j] as number) ** 2,
  );
  // Column i is w_i minus the mean of the first i iterates (the mean just after update i).
  const columns = its.map((w, i) =>
    [0, 1, 2].map(
      (j) =>
        (w[j] as number) - its.slice(0, i + 1).reduce((s, v) => s + (v[j] as number), 0) / (i + 1),
    ),
  );
  return { mean, variance, columns: columns.slice(-rank) };
}

async function fitted(
  rank: number,
  t = ITERATES.length,
): Promise<{ swag: Swag; model: tf.LayersModel }> {
  const model = tinyDense();
  const swag = new Swag({ rank });
  for (const w of ITERATES.slice(0, t)) {
    setParams(model, w);
    await swag.update(model);
  }
  return { swag, model };
}

describe('Swag', () => {
  it('keeps the running mean and the diagonal variance of the iterates', async () => {
    const { swag, model } = await fitted(3);
    const want = expected(5, 3);
    expect(swag.count).toBe(5);
    expect(swag.columns).toBe(3);
    const mean = await flat(swag.mean());
    const variance = await flat(swag.variance());
    want.mean.forEach((m, j) => {
      expect(mean[j]).toBeCloseTo(m, 5);
    });
    want.variance.forEach((v, j) => {
      expect(variance[j]).toBeCloseTo(v, 4);
    });
    const other = tinyDense();
    swag.copyTo(other);
    expect(await flat(other.getWeights().map((w) => w.clone()))).toEqual(mean);
    swag.dispose();
    model.dispose();
    other.dispose();
  });

  it('samples with covariance s·(diag σ² + D Dᵀ/(K − 1)) around the mean (empirical check)', async () => {
    const { swag, model } = await fitted(3);
    const want = expected(5, 3);
    const s = 0.5;
    const k = want.columns.length;
    const cov = [0, 1, 2].map((a) =>
      [0, 1, 2].map(
        (b) =>
          s *
          ((a === b ? (want.variance[a] as number) : 0) +
            want.columns.reduce((acc, c) => acc + (c[a] as number) * (c[b] as number), 0) /
              (k - 1)),
      ),
    );
    const draws = 3000;
    const samples: number[][] = [];
    for (let i = 0; i < draws; i++) samples.push(await flat(swag.sample({ scale: s, seed: i })));
    const avg = [0, 1, 2].map((j) => samples.reduce((acc, x) => acc + (x[j] as number), 0) / draws);
    for (let a = 0; a < 3; a++) {
      // The mean of 3000 draws lies within 4 standard errors of w̄.
      const se = Math.sqrt((cov[a]?.[a] as number) / draws);
      expect(Math.abs((avg[a] as number) - (want.mean[a] as number))).toBeLessThan(4 * se);
      for (let b = 0; b < 3; b++) {
        const c =
          samples.reduce(
            (acc, x) =>
              acc +
              ((x[a] as number) - (avg[a] as number)) * ((x[b] as number) - (avg[b] as number)),
            0,
          ) /
          (draws - 1);
        // Sampling error of a covariance of 3000 draws: well under 0.15 of the scale involved.
        const scaleAB = Math.sqrt((cov[a]?.[a] as number) * (cov[b]?.[b] as number));
        expect(Math.abs(c - (cov[a]?.[b] as number))).toBeLessThan(0.15 * scaleAB);
      }
    }
    swag.dispose();
    model.dispose();
  });

  it('samples the diagonal Gaussian only when asked, with variance s·σ²', async () => {
    const { swag, model } = await fitted(3);
    const want = expected(5, 3);
    const draws = 3000;
    const samples: number[][] = [];
    for (let i = 0; i < draws; i++) {
      samples.push(await flat(swag.sample({ scale: 1, covariance: 'diagonal', seed: 10_000 + i })));
    }
    for (let j = 0; j < 3; j++) {
      const avg = samples.reduce((acc, x) => acc + (x[j] as number), 0) / draws;
      const v = samples.reduce((acc, x) => acc + ((x[j] as number) - avg) ** 2, 0) / (draws - 1);
      expect(Math.abs(v / (want.variance[j] as number) - 1)).toBeLessThan(0.12);
    }
    swag.dispose();
    model.dispose();
  });

  it('repeats a sample under the same seed and writes it into a model', async () => {
    const { swag, model } = await fitted(2);
    const a = await flat(swag.sample({ seed: 7 }));
    const b = await flat(swag.sample({ seed: 7 }));
    const c = await flat(swag.sample({ seed: 8 }));
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    swag.sampleInto(model, { seed: 7 });
    expect(await flat(model.getWeights().map((w) => w.clone()))).toEqual(a);
    swag.dispose();
    model.dispose();
  });

  it('keeps only the last K deviation columns, and none with rank 0', async () => {
    const { swag: two, model: m1 } = await fitted(2);
    expect(two.columns).toBe(2);
    const { swag: none, model: m2 } = await fitted(0);
    expect(none.columns).toBe(0);
    await expect(flat(none.sample({ seed: 1 }))).resolves.toHaveLength(3);
    expect(() => none.sample({ covariance: 'low-rank' })).toThrow(InvalidArgumentError);
    disposeAll(two, none, m1, m2);
  });

  it('rejects bad input and a non-finite update with typed errors, changing nothing', async () => {
    const swag = new Swag({ rank: 3 });
    const model = tinyDense();
    expect(() => swag.sample()).toThrow(EmptyAverageError);
    expect(() => new Swag({ rank: -1 })).toThrow(InvalidArgumentError);
    setParams(model, [1, 2, 3]);
    await swag.update(model);
    expect(() => swag.sample({ covariance: 'low-rank' })).toThrow(/at least 2 deviation columns/);
    expect(() => swag.sample({ scale: 0 })).toThrow(InvalidArgumentError);
    setParams(model, [1, Number.NaN, 3]);
    await expect(swag.update(model)).rejects.toBeInstanceOf(NonFiniteError);
    expect(swag.count).toBe(1);
    expect(await flat(swag.mean())).toEqual([1, 2, 3]);
    const wide = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] });
    await expect(swag.update(wide)).rejects.toBeInstanceOf(WeightMismatchError);
    expect(() => swag.sampleInto(wide)).toThrow(WeightMismatchError);
    swag.dispose();
    expect(() => swag.mean()).toThrow(DisposedError);
    await expect(swag.update(model)).rejects.toBeInstanceOf(DisposedError);
    disposeAll(model, wide);
  });

  it('resumes from its state exactly as if never interrupted', async () => {
    const model = tinyDense();
    const straight = new Swag({ rank: 2 });
    for (const w of ITERATES.slice(0, 3)) {
      setParams(model, w);
      await straight.update(model);
    }
    const state = straight.getState();
    expect(state.deviations).toHaveLength(2);
    const resumed = Swag.fromState(state);
    tf.dispose([...state.mean, ...state.squareMean, ...state.deviations.flat()]);
    for (const w of ITERATES.slice(3)) {
      setParams(model, w);
      await straight.update(model);
      await resumed.update(model);
    }
    expect(resumed.count).toBe(5);
    expect(await flat(resumed.sample({ seed: 3 }))).toEqual(
      await flat(straight.sample({ seed: 3 })),
    );
    expect(await flat(resumed.variance())).toEqual(await flat(straight.variance()));
    // A state that does not add up is refused by name.
    const bad = straight.getState();
    expect(() => Swag.fromState({ ...bad, rank: 1 })).toThrow(/state.deviations/);
    expect(() => Swag.fromState({ ...bad, mean: bad.mean.slice(1) })).toThrow(WeightMismatchError);
    tf.dispose([...bad.mean, ...bad.squareMean, ...bad.deviations.flat()]);
    disposeAll(straight, resumed, model);
  });

  it('gives zero variance and finite samples equal to the mean for identical iterates', async () => {
    const model = wideDense();
    const swag = new Swag({ rank: 4 });
    for (let k = 0; k < 6; k++) await swag.update(model);
    const mean = await flat(swag.mean());
    // σ² = 0 up to the floor the square root is taken at.
    for (const v of await flat(swag.variance())) expect(v).toBeLessThan(1e-29);
    for (const covariance of ['diagonal', 'low-rank'] as const) {
      const sample = await flat(swag.sample({ covariance, seed: 5 }));
      expect(sample).toEqual(mean);
    }
    disposeAll(swag, model);
  });

  it('keeps variances at or above 0 and samples finite when iterates differ only by rounding', async () => {
    // A converged run: iterates w·(1 + k·1e-7) differ in their last bits, and in float32
    // mean(w²) − w̄² comes out below 0 for many entries (78 of these 256): σ = √σ² must not be NaN.
    const model = wideDense();
    const [base] = model.getWeights().map((w) => tf.clone(w)) as [tf.Tensor];
    const swag = new Swag({ rank: 4 });
    for (let k = 0; k < 6; k++) {
      const w = tf.mul(base, 1 + k * 1e-7);
      model.setWeights([w]);
      w.dispose();
      await swag.update(model);
    }
    const variance = await flat(swag.variance());
    expect(Math.min(...variance)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...variance)).toBeLessThan(1e-6); // float32 rounding of w² for |w| < 1
    const mean = await flat(swag.mean());
    for (const covariance of ['diagonal', 'low-rank'] as const) {
      const sample = await flat(swag.sample({ covariance, seed: 5 }));
      expect(sample.every(Number.isFinite)).toBe(true);
      const furthest = Math.max(...sample.map((v, i) => Math.abs(v - (mean[i] as number))));
      expect(furthest).toBeLessThan(1e-2);
    }
    disposeAll(swag, model, base);
  });

  it('keeps the tensor count flat over many updates and samples', async () => {
    const model = tinyDense();
    const swag = new Swag({ rank: 4 });
    for (let i = 0; i < 6; i++) await swag.update(model);
    tf.dispose(swag.sample());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      setParams(model, [i, -i, i / 2]);
      await swag.update(model);
    }
    for (let i = 0; i < 20; i++) {
      tf.dispose(swag.sample({ seed: i }));
      swag.sampleInto(model, { seed: i });
    }
    expect(tf.memory().numTensors).toBe(before);
    swag.dispose();
    model.dispose();
  });
});

function disposeAll(...items: { dispose(): unknown }[]): void {
  for (const item of items) item.dispose();
}
