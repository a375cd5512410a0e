import { InvalidArgumentError, NonFiniteError, seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { recomputeBatchNorm } from './batch-norm.js';
import { BatchNormInternalsError, BatchNormNotReachedError, EmptyDataError } from './errors.js';

type BN = tf.layers.Layer & { momentum: number };

/** Per-channel mean and biased variance of `rows` (each row: one value per channel), in float64. */
function channelStats(rows: number[][]): { mean: number[]; variance: number[] } {
  const c = (rows[0] as number[]).length;
  const mean = Array.from(
    { length: c },
    (_, j) => rows.reduce((s, r) => s + (r[j] as number), 0) / rows.length,
  );
  const variance = Array.from(
    { length: c },
    (_, j) =>
      rows.reduce((s, r) => s + ((r[j] as number) - (mean[j] as number)) ** 2, 0) / rows.length,
  );
  return { mean, variance };
}

/** Seeded data with per-feature offsets and scales, as a JS array and a tensor. */
function data(n: number, d: number, seed: number): { rows: number[][]; xs: tf.Tensor2D } {
  const rnd = seededRandom(seed);
  const rows = Array.from({ length: n }, () =>
    Array.from({ length: d }, (_, j) => (j + 1) * 3 + (rnd() * 2 - 1) * (j + 1)),
  );
  return { rows, xs: tf.tensor2d(rows) };
}

function stats(layer: tf.layers.Layer): { mean: number[]; variance: number[] } {
  const w = layer.getWeights();
  return {
    mean: Array.from(w[w.length - 2]?.dataSync() ?? []),
    variance: Array.from(w[w.length - 1]?.dataSync() ?? []),
  };
}

function expectStats(
  actual: { mean: number[]; variance: number[] },
  expected: { mean: number[]; variance: number[] },
  tol = 1e-4,
) {
  expect(actual.mean.length).toBe(expected.mean.length);
  actual.mean.forEach((v, j) => {
    expect(v).toBeCloseTo(expected.mean[j] as number, -Math.log10(tol) - 1);
    expect(Math.abs(v - (expected.mean[j] as number))).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(expected.mean[j] as number)),
    );
  });
  actual.variance.forEach((v, j) => {
    expect(Math.abs(v - (expected.variance[j] as number))).toBeLessThanOrEqual(
      tol * Math.max(1, expected.variance[j] as number),
    );
  });
}

const disposables: { dispose(): void }[] = [];
function own<T extends { dispose(): void }>(x: T): T {
  disposables.push(x);
  return x;
}
afterEach(() => {
  for (const d of disposables.splice(0)) d.dispose();
});

describe('recomputeBatchNorm on one batch-norm layer', () => {
  // dense (fixed, hand-computable) → BN → dense
  function model() {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 2 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    m.layers[0]?.setWeights([
      tf.tensor2d([
        [1, -2],
        [0.5, 1],
        [-1, 3],
      ]),
      tf.tensor1d([0.25, -4]),
    ]);
    return own(m);
  }
  const denseOut = (rows: number[][]) =>
    rows.map(([a, b, c]) => [
      (a as number) + 0.5 * (b as number) - (c as number) + 0.25,
      -2 * (a as number) + (b as number) + 3 * (c as number) - 4,
    ]);

  it.each([1, 4, 8, 37, 64])(
    'equals the hand-computed mean/variance of the layer input (batch size %i)',
    async (batchSize) => {
      const m = model();
      const { rows, xs } = data(37, 3, 7);
      own(xs);
      const result = await recomputeBatchNorm(m, xs, { batchSize });
      expect(result).toEqual({ layers: 1, examples: 37, batches: Math.ceil(37 / batchSize) });
      expectStats(stats(m.layers[1] as tf.layers.Layer), channelStats(denseOut(rows)));
    },
  );

  it('accepts {xs}, [xs, ys], a tf.data.Dataset and an async iterable alike', async () => {
    const { rows, xs } = data(21, 3, 8);
    own(xs);
    const ys = own(tf.zeros([21, 1]));
    const expected = channelStats(denseOut(rows));
    const sources = [
      { xs },
      [xs, ys],
      tf.data
        .array(rows)
        .map((r) => tf.tensor1d(r as number[]))
        .batch(5),
      (async function* () {
        for (let b = 0; b < 21; b += 6) yield { xs: tf.slice(xs, b, Math.min(6, 21 - b)) };
      })(),
    ];
    for (const source of sources) {
      const m = model();
      await recomputeBatchNorm(m, source as never, { batchSize: 10 });
      expectStats(stats(m.layers[1] as tf.layers.Layer), expected);
    }
  });

  it("writes the unbiased variance on request (N/(N − 1) × PyTorch's convention)", async () => {
    const m = model();
    const { rows, xs } = data(10, 3, 9);
    own(xs);
    await recomputeBatchNorm(m, xs, { batchSize: 3, variance: 'unbiased' });
    const e = channelStats(denseOut(rows));
    expectStats(stats(m.layers[1] as tf.layers.Layer), {
      mean: e.mean,
      variance: e.variance.map((v) => (v * 10) / 9),
    });
  });

  it('stays accurate with a large mean relative to the spread (no sum-of-squares cancellation)', async () => {
    const m = own(tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [1] })] }));
    const rows = Array.from({ length: 400 }, (_, i) => [10000 + (i % 7) * 0.01]);
    const xs = own(tf.tensor2d(rows));
    await recomputeBatchNorm(m, xs, { batchSize: 16 });
    const e = channelStats(rows);
    const got = stats(m.layers[0] as tf.layers.Layer);
    expect(Math.abs((got.variance[0] as number) - (e.variance[0] as number))).toBeLessThan(
      0.02 * (e.variance[0] as number),
    );
  });
});

describe('recomputeBatchNorm on conv features and unusual layers', () => {
  it('reduces over batch and spatial axes for rank-4 inputs, channels last or first', async () => {
    const rnd = seededRandom(3);
    const n = 5;
    const vals = Array.from({ length: n * 3 * 4 * 2 }, () => rnd() * 4 - 1);
    const x = own(tf.tensor4d(vals, [n, 3, 4, 2]));
    const last = own(
      tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3, 4, 2] })] }),
    );
    await recomputeBatchNorm(last, x, { batchSize: 2 });
    const rowsLast = Array.from({ length: vals.length / 2 }, (_, i) => [
      vals[2 * i] as number,
      vals[2 * i + 1] as number,
    ]);
    expectStats(stats(last.layers[0] as tf.layers.Layer), channelStats(rowsLast));
    // axis 1: channels are the 3 rows of each example.
    const first = own(
      tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3, 4, 2], axis: 1 })] }),
    );
    await recomputeBatchNorm(first, x, { batchSize: 3 });
    const perChannel: number[][] = [[], [], []];
    vals.forEach((v, i) => {
      perChannel[Math.floor(i / 8) % 3]?.push(v);
    });
    const rowsFirst = Array.from({ length: n * 8 }, (_, i) =>
      perChannel.map((c) => c[i] as number),
    );
    expectStats(stats(first.layers[0] as tf.layers.Layer), channelStats(rowsFirst));
  });

  it('handles center: false and scale: false (where tfjs training throws)', async () => {
    const m = own(
      tf.sequential({
        layers: [
          tf.layers.batchNormalization({ inputShape: [3], center: false, scale: false }),
          tf.layers.dense({ units: 2 }),
          tf.layers.batchNormalization({ center: false }),
        ],
      }),
    );
    const { rows, xs } = data(30, 3, 4);
    own(xs);
    await recomputeBatchNorm(m, xs, { batchSize: 30 });
    expectStats(stats(m.layers[0] as tf.layers.Layer), channelStats(rows));
    // With one full batch, the second layer sees the first's output normalised by exactly the
    // statistics just written, so inference up to its input reproduces what it saw.
    const upTo = tf.model({ inputs: m.inputs, outputs: m.layers[1]?.output as tf.SymbolicTensor });
    const h = upTo.predict(xs) as tf.Tensor2D;
    expectStats(stats(m.layers[2] as tf.layers.Layer), channelStats(h.arraySync()));
    h.dispose();
  });

  it('ignores Dropout (inference mode for everything but batch norm)', async () => {
    const m = own(
      tf.sequential({
        layers: [
          tf.layers.dropout({ inputShape: [3], rate: 0.5, seed: 1 }),
          tf.layers.batchNormalization(),
        ],
      }),
    );
    const { rows, xs } = data(40, 3, 5);
    own(xs);
    await recomputeBatchNorm(m, xs, { batchSize: 8 });
    expectStats(stats(m.layers[1] as tf.layers.Layer), channelStats(rows));
  });

  it('supports multi-input models and a custom forward', async () => {
    const a = tf.input({ shape: [2] });
    const b = tf.input({ shape: [1] });
    const joined = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const out = tf.layers.batchNormalization().apply(joined) as tf.SymbolicTensor;
    const m = own(tf.model({ inputs: [a, b], outputs: out }));
    const { rows, xs } = data(17, 3, 6);
    own(xs);
    const xa = own(tf.slice(xs, [0, 0], [17, 2]));
    const xb = own(tf.slice(xs, [0, 2], [17, 1]));
    await recomputeBatchNorm(m, { xs: [xa, xb] }, { batchSize: 5 });
    expectStats(stats(m.layers[3] as tf.layers.Layer), channelStats(rows));
    // forward: the model gets one tensor per batch and splits (and doubles) it itself.
    await recomputeBatchNorm(m, xs, {
      batchSize: 4,
      forward: (model, x) => {
        const t = tf.mul(x as tf.Tensor2D, 2);
        return model.apply([
          tf.slice(t, [0, 0], [-1, 2]),
          tf.slice(t, [0, 2], [-1, 1]),
        ]) as tf.Tensor;
      },
    });
    const e = channelStats(rows.map((r) => r.map((v) => 2 * v)));
    expectStats(stats(m.layers[3] as tf.layers.Layer), e);
  });
});

describe('recomputeBatchNorm on deep and nested models', () => {
  it('recomputes every layer; with one full batch each equals the stats of its inference-mode input', async () => {
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const inner = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 5, kernelInitializer: init(1) }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 3, activation: 'relu', kernelInitializer: init(2) }),
        tf.layers.batchNormalization(),
      ],
    });
    const input = tf.input({ shape: [4] });
    const h = inner.apply(input) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: 4, activation: 'tanh', kernelInitializer: init(3) });
    const h2 = dense.apply(h) as tf.SymbolicTensor;
    const outerBn = tf.layers.batchNormalization();
    const out = outerBn.apply(h2) as tf.SymbolicTensor;
    const m = own(tf.model({ inputs: input, outputs: out }));
    const { rows, xs } = data(25, 4, 11);
    own(xs);
    const momenta = [inner.layers[1], inner.layers[3], outerBn].map((l) => (l as BN).momentum);
    await recomputeBatchNorm(m, xs, { batchSize: 25 });
    expect([inner.layers[1], inner.layers[3], outerBn].map((l) => (l as BN).momentum)).toEqual(
      momenta,
    );
    // Inner BN 1: its input is the first dense layer's output.
    const d1 = inner.layers[0]?.apply(xs) as tf.Tensor2D;
    expectStats(stats(inner.layers[1] as tf.layers.Layer), channelStats(d1.arraySync()));
    // Inner BN 2 and outer BN: inputs computed in inference mode with the new statistics.
    const sub = tf.sequential({
      layers: [inner.layers[0], inner.layers[1], inner.layers[2]] as tf.layers.Layer[],
    });
    const d2 = sub.predict(xs) as tf.Tensor2D;
    expectStats(stats(inner.layers[3] as tf.layers.Layer), channelStats(d2.arraySync()));
    const upTo = tf.model({ inputs: input, outputs: h2 });
    const d3 = upTo.predict(xs) as tf.Tensor2D;
    expectStats(stats(outerBn), channelStats(d3.arraySync()));
    tf.dispose([d1, d2, d3]);
    expect(rows.length).toBe(25);
  });

  it('keeps tf.memory().numTensors flat and restores each layer (even when forward throws)', async () => {
    const m = own(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [3], units: 4 }),
          tf.layers.batchNormalization({ momentum: 0.7 }),
          tf.layers.dropout({ rate: 0.3 }),
          tf.layers.batchNormalization(),
        ],
      }),
    );
    const { xs } = data(20, 3, 12);
    own(xs);
    await recomputeBatchNorm(m, xs, { batchSize: 6 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await recomputeBatchNorm(m, xs, { batchSize: 6 });
    expect(tf.memory().numTensors).toBe(before);

    const bns = [m.layers[1], m.layers[3]] as BN[];
    const saved = bns.map((l) => stats(l));
    let calls = 0;
    const err = await recomputeBatchNorm(m, xs, {
      batchSize: 6,
      forward: (model, x) => {
        if (++calls === 2) throw new Error('boom');
        return model.apply(x) as tf.Tensor;
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('boom');
    expect(tf.memory().numTensors).toBe(before);
    for (const [i, l] of bns.entries()) {
      expect(Object.hasOwn(l, 'call')).toBe(false);
      expect(stats(l)).toEqual(saved[i]);
    }
    expect(bns.map((l) => l.momentum)).toEqual([0.7, 0.99]);
    // Inference uses the moving statistics again: output = (x − mean)/sqrt(var + ε)·γ + β.
    const x = own(tf.tensor2d([[1, 2, 3]]));
    const first = tf.sequential({ layers: [m.layers[0], m.layers[1]] as tf.layers.Layer[] });
    const y = first.predict(x) as tf.Tensor;
    const d = m.layers[0]?.apply(x) as tf.Tensor;
    const [g, bta, mu, v] = (m.layers[1] as tf.layers.Layer)
      .getWeights()
      .map((t) => Array.from(t.dataSync()));
    const expected = Array.from(d.dataSync()).map(
      (z, j) =>
        ((z - (mu?.[j] as number)) / Math.sqrt((v?.[j] as number) + 1e-3)) * (g?.[j] as number) +
        (bta?.[j] as number),
    );
    Array.from(y.dataSync()).forEach((z, j) => {
      expect(z).toBeCloseTo(expected[j] as number, 4);
    });
    tf.dispose([y, d]);
  });

  it('throws typed errors, leaving the model untouched', async () => {
    const m = own(
      tf.sequential({
        layers: [tf.layers.dense({ inputShape: [2], units: 2 }), tf.layers.batchNormalization()],
      }),
    );
    const saved = stats(m.layers[1] as tf.layers.Layer);
    await expect(recomputeBatchNorm(m, (async function* () {})())).rejects.toBeInstanceOf(
      EmptyDataError,
    );
    await expect(recomputeBatchNorm(m, own(tf.zeros([0, 2])))).rejects.toBeInstanceOf(
      EmptyDataError,
    );
    // forward that never reaches the batch-norm layer
    const xs = own(tf.ones([4, 2]));
    await expect(
      recomputeBatchNorm(m, xs, { forward: (model, x) => model.layers[0]?.apply(x) as tf.Tensor }),
    ).rejects.toBeInstanceOf(BatchNormNotReachedError);
    const nan = own(
      tf.tensor2d([
        [Number.NaN, 1],
        [2, 3],
      ]),
    );
    await expect(recomputeBatchNorm(m, nan)).rejects.toBeInstanceOf(NonFiniteError);
    await expect(
      recomputeBatchNorm(m, xs, { layers: [m.layers[0] as tf.layers.Layer] }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(stats(m.layers[1] as tf.layers.Layer)).toEqual(saved);
    // A layer without the tfjs-layers internals the recompute reads (another tfjs-layers).
    const bn = m.layers[1] as unknown as { movingVariance: unknown };
    const variance = bn.movingVariance;
    bn.movingVariance = undefined;
    await expect(recomputeBatchNorm(m, xs)).rejects.toThrow(BatchNormInternalsError);
    await expect(recomputeBatchNorm(m, xs)).rejects.toThrow(
      /layer '[^']+' has no usable movingVariance; expected tfjs-layers 4.22.x/,
    );
    bn.movingVariance = variance;
    expect(stats(m.layers[1] as tf.layers.Layer)).toEqual(saved);
  });

  it('issue 28 defect 18: says so for a model without batch norm (typed error, no pass over the data)', async () => {
    const m = own(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2 })] }));
    let pulled = 0;
    const source = (async function* () {
      pulled++;
      yield tf.ones([3, 2]);
    })();
    const error = await recomputeBatchNorm(m, source).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/has no BatchNormalization layer/);
    // An explicit empty list of layers is a deliberate no-op.
    expect(await recomputeBatchNorm(m, source, { layers: [] })).toEqual({
      layers: 0,
      examples: 0,
      batches: 0,
    });
    expect(pulled).toBe(0);
  });
});
