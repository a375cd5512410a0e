import {
  DisposedError,
  InvalidArgumentError,
  NonFiniteError,
  readWeights,
  seededRandom,
  WeightMismatchError,
  writeWeights,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bezierCurve, type Curve, polyChainCurve, straightLine } from './curve.js';
import { fitCurve } from './fit-curve.js';
import { flatValues, mlp, spirals, trainedEnds } from './test-utils.js';

/** Mean compiled loss of `model` at `φ(t)` on the whole of `data` (inference mode). */
function lossAt(
  model: tf.LayersModel,
  curve: Curve,
  t: number,
  data: { xs: tf.Tensor; ys: tf.Tensor },
): number {
  const saved = readWeights(model, 'trainable');
  const w = curve.weightsAt(t);
  writeWeights(model, w, 'trainable');
  const loss = tf.tidy(() => model.evaluate(data.xs, data.ys, { batchSize: 1024 }) as tf.Scalar);
  const value = loss.dataSync()[0]!;
  loss.dispose();
  writeWeights(model, saved, 'trainable');
  tf.dispose([...w, ...saved]);
  return value;
}

describe('fitCurve', () => {
  const data = { xs: tf.tensor2d([[0]]), ys: tf.tensor2d([[0]]) };
  let ends: tf.Tensor[][] = [];
  let model: tf.LayersModel;

  beforeAll(async () => {
    const d = spirals(240, 7);
    data.xs.dispose();
    data.ys.dispose();
    data.xs = d.xs;
    data.ys = d.ys;
    // Two ends: the same architecture from different seeds, trained on the same task.
    ends = await trainedEnds(data);
    model = mlp(3);
  });

  afterAll(() => {
    tf.dispose(ends.flat());
    ends = [];
    model.dispose();
    tf.dispose([data.xs, data.ys]);
  });

  it('finds a curve whose midpoint loss is far below the straight line’s', async () => {
    const line = straightLine(ends[0]!, ends[1]!);
    const curve = bezierCurve(ends[0]!, ends[1]!);
    const endLoss = Math.max(lossAt(model, line, 0, data), lossAt(model, line, 1, data));
    const lineMid = lossAt(model, line, 0.5, data);
    const before = readWeights(model, 'all');
    const history = await fitCurve(model, curve, data, {
      epochs: 30,
      batchSize: 48,
      learningRate: 0.05,
      seed: 3,
    });
    expect(history.steps).toBe(30 * 5);
    const curveMid = lossAt(model, curve, 0.5, data);
    // The straight line crosses a barrier; the trained curve's midpoint is near the ends' loss.
    expect(lineMid).toBeGreaterThan(endLoss + 0.3);
    expect(curveMid).toBeLessThan(endLoss + 0.4 * (lineMid - endLoss));
    expect(history.epochs.at(-1)!.loss).toBeLessThan(history.epochs[0]!.loss);
    // The model's own weights are back.
    expect(await flatValues(model.weights.map((v) => v.read()))).toEqual(await flatValues(before));
    tf.dispose(before);
    line.dispose();
    curve.dispose();
  });

  it('keeps the ends fixed and moves only the bends', async () => {
    const curve = polyChainCurve(ends[0]!, ends[1]!, 2);
    const start = await flatValues(curve.start);
    const end = await flatValues(curve.end);
    const bend0 = await flatValues(curve.bends[0]!);
    await fitCurve(model, curve, data, { epochs: 2, batchSize: 48, learningRate: 0.05 });
    expect(await flatValues(curve.start)).toEqual(start);
    expect(await flatValues(curve.end)).toEqual(end);
    expect(await flatValues(curve.bends[0]!)).not.toEqual(bend0);
    curve.dispose();
  });

  it('gives each bend the finite-difference gradient of L(φ(t)) + wd/2·‖φ(t)‖²', async () => {
    const small = mlp(5, { hidden: 4, loss: 'meanSquaredError' });
    const a = readWeights(small, 'trainable');
    const b = readWeights(mlp(6, { hidden: 4 }), 'trainable');
    const bendInit = [a.map((w) => tf.mul(w, 0.3)), undefined];
    const xs = data.xs.slice(0, 16);
    const ys = data.ys.slice(0, 16);
    const wd = 0.1;
    const seed = 11;
    const t = seededRandom(seed)(); // the t that fitCurve draws for its first batch
    const curve = bezierCurve(a, b, bendInit);
    const theta = [await flatValues(curve.bends[0]!), await flatValues(curve.bends[1]!)];
    await fitCurve(
      small,
      curve,
      { xs, ys },
      {
        batchSize: 16,
        optimizer: tf.train.sgd(1),
        weightDecay: wd,
        seed,
        shuffle: false,
      },
    );
    const moved = [await flatValues(curve.bends[0]!), await flatValues(curve.bends[1]!)];

    // Objective as a function of the flat bends, evaluated through a freshly built curve.
    const shapes = a.map((w) => w.shape);
    const unflatten = (flat: number[]) => {
      let o = 0;
      return shapes.map((s) => {
        const size = s.reduce((p, q) => p * q, 1);
        const out = tf.tensor(flat.slice(o, o + size), s);
        o += size;
        return out;
      });
    };
    const objective = (bends: number[][]) => {
      const parts = bends.map(unflatten);
      const c = bezierCurve(a, b, parts);
      const w = c.weightsAt(t);
      writeWeights(small, w, 'trainable');
      const value = tf.tidy(() => {
        const l = tf.losses.meanSquaredError(ys, small.apply(xs) as tf.Tensor);
        const sq = w.reduce((s, wi) => tf.add(s, tf.sum(tf.square(wi))), tf.scalar(0));
        return tf.add(l, tf.mul(sq, wd / 2)).dataSync()[0]!;
      });
      tf.dispose([...w, ...parts.flat()]);
      c.dispose();
      return value;
    };
    const eps = 1e-2;
    const random = seededRandom(4);
    let checked = 0;
    for (const k of [0, 1]) {
      for (let n = 0; n < 6; n++) {
        const j = Math.floor(random() * theta[k]!.length);
        const plus = theta.map((p) => [...p]);
        const minus = theta.map((p) => [...p]);
        plus[k]![j]! += eps;
        minus[k]![j]! -= eps;
        const fd = (objective(plus) - objective(minus)) / (2 * eps);
        const applied = theta[k]![j]! - moved[k]![j]!; // SGD with lr 1: θ ← θ − g
        // Float32 central differences agree to ~1e-6 here.
        expect(Math.abs(applied - fd)).toBeLessThan(2e-5 + 0.01 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBe(12);
    // Not a vacuous comparison: the gradient is far from zero somewhere.
    expect(Math.max(...moved[0]!.map((v, j) => Math.abs(v - theta[0]![j]!)))).toBeGreaterThan(1e-2);
    tf.dispose([...a, ...b, xs, ys, ...(bendInit[0] ?? [])]);
    curve.dispose();
    small.dispose();
  });

  it('keeps the tensor count flat and restores BN statistics', async () => {
    const bn = mlp(8, { batchNorm: true });
    const w1 = readWeights(bn, 'trainable');
    const w2 = readWeights(mlp(9, { batchNorm: true }), 'trainable');
    const curve = bezierCurve(w1, w2);
    const before = await flatValues(readWeights(bn, 'all'));
    const optimizer = tf.train.adam(0.01);
    // Warm the optimizer so its slots exist before counting.
    await fitCurve(bn, curve, data, { batchSize: 48, optimizer, epochs: 1 });
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    await fitCurve(bn, curve, data, {
      batchSize: 48,
      optimizer,
      epochs: 3,
      callbacks: { onBatchEnd: () => void counts.push(tf.memory().numTensors) },
    });
    expect(counts.length).toBe(15);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start);
    const after = readWeights(bn, 'all');
    expect(await flatValues(after)).toEqual(before);
    tf.dispose([...after, ...w1, ...w2]);
    optimizer.dispose();
    curve.dispose();
    bn.dispose();
  });

  it('follows a schedule and reports progress through callbacks', async () => {
    const curve = bezierCurve(ends[0]!, ends[1]!);
    const optimizer = tf.train.sgd(0.1);
    const seen: { step: number; lr: number | undefined; t: number }[] = [];
    const epochs: number[] = [];
    await fitCurve(model, curve, data, {
      batchSize: 120,
      epochs: 2,
      optimizer,
      seed: 5,
      schedule: { name: 'halving', lrAt: (s) => 0.1 / 2 ** s },
      callbacks: [
        { onBatchEnd: (step, logs) => void seen.push({ step, lr: logs.learningRate, t: logs.t }) },
        { onEpochEnd: (e, logs) => void epochs.push(e + logs.steps) },
      ],
    });
    expect(seen.map((s) => s.lr)).toEqual([0.1, 0.05, 0.025, 0.0125]);
    expect(seen.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    const random = seededRandom(5);
    expect(seen.map((s) => s.t)).toEqual([random(), random(), random(), random()]);
    expect(epochs).toEqual([2, 3]);
    optimizer.dispose();
    curve.dispose();
  });

  it('stops after the current batch when its signal is aborted', async () => {
    const curve = bezierCurve(ends[0]!, ends[1]!);
    const controller = new AbortController();
    const history = await fitCurve(model, curve, data, {
      batchSize: 24,
      epochs: 3,
      callbacks: { onBatchEnd: (step) => void (step === 1 && controller.abort()) },
      signal: controller.signal,
    });
    expect(history.steps).toBe(2);
    expect(history.epochs).toHaveLength(1);
    curve.dispose();
  });

  it('refuses a curve of another architecture or one without bends', async () => {
    const other = mlp(4, { hidden: 5 });
    const w = readWeights(other, 'trainable');
    const wrong = bezierCurve(w, w);
    await expect(fitCurve(model, wrong, data)).rejects.toThrow(WeightMismatchError);
    const line = straightLine(ends[0]!, ends[1]!);
    await expect(fitCurve(model, line, data)).rejects.toThrow(/at least one bend/);
    tf.dispose(w);
    wrong.dispose();
    line.dispose();
    other.dispose();
  });

  it('issue 28 defect 18: a disposed curve is a DisposedError', async () => {
    const curve = bezierCurve(ends[0]!, ends[1]!);
    curve.dispose();
    await expect(fitCurve(model, curve, data)).rejects.toThrow(DisposedError);
  });

  it('issue 28 defect 18: NaN ends or a learning rate that diverges are a NonFiniteError, not NaN losses', async () => {
    const nanEnd = ends[1]!.map((t, i) => (i === 0 ? tf.fill(t.shape, Number.NaN) : t.clone()));
    const bad = bezierCurve(ends[0]!, nanEnd);
    await expect(fitCurve(model, bad, data, { epochs: 1, batchSize: 48 })).rejects.toThrow(
      NonFiniteError,
    );
    tf.dispose(nanEnd);
    bad.dispose();
    const curve = bezierCurve(ends[0]!, ends[1]!);
    const error = await fitCurve(model, curve, data, {
      epochs: 2,
      batchSize: 48,
      learningRate: 3e38,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as Error).message).toMatch(/diverged at learning rate 3e\+38/);
    curve.dispose();
  });

  it('issue 28 defect 18: xs and ys of different lengths are an InvalidArgumentError naming ys', async () => {
    const curve = bezierCurve(ends[0]!, ends[1]!);
    const short = { xs: data.xs, ys: data.ys.slice(0, 10) };
    await expect(fitCurve(model, curve, short)).rejects.toThrow(InvalidArgumentError);
    await expect(fitCurve(model, curve, short)).rejects.toThrow(/data\.ys/);
    short.ys.dispose();
    curve.dispose();
  });
});
