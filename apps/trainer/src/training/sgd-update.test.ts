import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sgdUpdate } from './sgd-update.js';

// One softmax layer, z = xW + b, mean cross-entropy over the batch: dL/dz = (p − y)/N, so
// dL/dW = xᵀ(p − y)/N and dL/db = Σ(p − y)/N. With L2 weight decay wd on the kernel only, SGD with
// momentum m (tfjs's form) is  v ← m·v + (g + wd·W),  W ← W − lr·v  (biases: g alone).

const X = [
  [0.5, -1.0, 0.25],
  [1.5, 0.5, -0.75],
  [-0.25, 2.0, 1.0],
  [0.75, -0.5, -1.25],
];
const Y = [
  [1, 0],
  [0, 1],
  [0, 1],
  [1, 0],
];
const W0 = [
  [0.3, -0.2],
  [-0.4, 0.6],
  [0.8, 0.1],
];
const B0 = [0.05, -0.1];

/** Gradients of the mean cross-entropy by the formula above, in float64. */
function crossEntropyGrads(w: number[][], b: number[]) {
  const n = X.length;
  const gw = w.map((row) => row.map(() => 0));
  const gb = b.map(() => 0);
  X.forEach((x, i) => {
    const z = b.map((bj, j) => bj + x.reduce((s, xk, k) => s + xk * w[k]![j]!, 0));
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((s, v) => s + v, 0);
    const dz = e.map((v, j) => (v / sum - Y[i]![j]!) / n);
    dz.forEach((d, j) => {
      gb[j]! += d;
      x.forEach((xk, k) => {
        gw[k]![j]! += xk * d;
      });
    });
  });
  return { gw, gb };
}

/** `steps` SGD-with-momentum updates with L2 decay `wd` on the kernel, by hand. */
function byHand(steps: number, lr: number, m: number, wd: number) {
  const w = W0.map((r) => [...r]);
  const b = [...B0];
  const vw = w.map((r) => r.map(() => 0));
  const vb = b.map(() => 0);
  for (let s = 0; s < steps; s++) {
    const { gw, gb } = crossEntropyGrads(w, b);
    w.forEach((row, k) => {
      row.forEach((wkj, j) => {
        vw[k]![j] = m * vw[k]![j]! + gw[k]![j]! + wd * wkj;
        row[j] = wkj - lr * vw[k]![j]!;
      });
    });
    b.forEach((bj, j) => {
      vb[j] = m * vb[j]! + gb[j]!;
      b[j] = bj - lr * vb[j]!;
    });
  }
  return { w, b };
}

/** The same updates with `sgdUpdate` on a one-layer tfjs model. */
async function withSgdUpdate(steps: number, lr: number, m: number, wd: number) {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })],
  });
  tf.tidy(() => model.setWeights([tf.tensor2d(W0), tf.tensor1d(B0)]));
  const optimizer = tf.train.momentum(lr, m);
  const update = sgdUpdate(model, optimizer, wd);
  const x = tf.tensor2d(X);
  const y = tf.tensor2d(Y);
  for (let s = 0; s < steps; s++) update.step(x, y).dispose();
  const [w, b] = model.getWeights();
  const out = { w: (await w!.array()) as number[][], b: (await b!.array()) as number[] };
  update.dispose();
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
  return out;
}

function expectClose(actual: number[][], expected: number[][]) {
  actual.flat().forEach((v, i) => {
    expect(v, `entry ${i}`).toBeCloseTo(expected.flat()[i]!, 6);
  });
}

describe('sgdUpdate', () => {
  it('three momentum steps equal v ← m·v + g + wd·W, W ← W − lr·v by hand (no decay on biases)', async () => {
    const [lr, m, wd] = [0.5, 0.9, 0.2];
    const got = await withSgdUpdate(3, lr, m, wd);
    const want = byHand(3, lr, m, wd);
    expectClose(got.w, want.w);
    expectClose([got.b], [want.b]);
    // The decay term is large enough here that twice (or none of) it is far outside the tolerance.
    const doubled = byHand(3, lr, m, 2 * wd);
    const none = byHand(3, lr, m, 0);
    for (const other of [doubled, none]) {
      const gap = Math.max(...other.w.flat().map((v, i) => Math.abs(v - want.w.flat()[i]!)));
      expect(gap).toBeGreaterThan(1e-3);
    }
  });

  it('returns the batch cross-entropy without the decay term, and holds no tensors after', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })],
    });
    tf.tidy(() => model.setWeights([tf.tensor2d(W0), tf.tensor1d(B0)]));
    const optimizer = tf.train.momentum(0.1, 0.9);
    const update = sgdUpdate(model, optimizer, 0.2);
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y);
    const p = tf.tidy(() => (model.predict(x) as tf.Tensor).arraySync() as number[][]);
    const ce = -Y.reduce((s, yi, i) => s + Math.log(p[i]![yi.indexOf(1)]!), 0) / X.length;
    update.step(x, y).dispose(); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    const loss = update.step(x, y);
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.tidy(() => model.setWeights([tf.tensor2d(W0), tf.tensor1d(B0)]));
    const still = tf.train.sgd(0);
    const fresh = sgdUpdate(model, still, 0.2);
    const first = fresh.step(x, y);
    expect(first.dataSync()[0]).toBeCloseTo(ce, 6);
    first.dispose();
    fresh.dispose();
    still.dispose();
    update.dispose();
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });
});
