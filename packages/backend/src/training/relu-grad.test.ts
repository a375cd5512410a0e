import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../select.js';
import { fusedTrainingFlags, setFusedTraining } from './flags.js';
import { DENSE, RELU_GRAD } from './kernel-names.js';
import { registerFusedTraining } from './register.js';

// The ReLU gradient is dy where the input is > 0 and 0 elsewhere, exactly 0 included, on every
// backend the suite has: cpu and wasm here, and the native backend in the native pass (where
// TensorFlow's `ReluGrad` runs behind the Relu gradient and the fused dense kernel).
const suiteBackend = tf.getBackend();
const backends = [...new Set(['cpu', 'wasm', suiteBackend])];
const before = { ...fusedTrainingFlags() };

beforeAll(async () => {
  await selectBackend('wasm');
  for (const backend of backends) registerFusedTraining(backend);
  setFusedTraining(true);
});

afterAll(async () => {
  setFusedTraining(before);
  await tf.setBackend(suiteBackend);
});

// Inputs with exact zeros next to tiny values of both signs; `dy` all distinct.
const X = [
  [-2, 0, 0.5],
  [3, -1e-7, 1e-7],
  [0, 0, -0],
];
const DY = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 9],
];
const MASKED = [0, 0, 3, 4, 0, 6, 0, 0, 0];

describe.each(backends)('the ReLU gradient at exactly 0, on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('tf.relu: dy where x > 0, else 0 (the Relu gradient onerun registers)', () => {
    const dx = tf.tidy(() => {
      const dy = tf.tensor2d(DY);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), dy)))(tf.tensor2d(X));
    });
    expect(Array.from(dx.dataSync())).toEqual(MASKED);
    dx.dispose();
  });

  it('the fused ReLU gradient kernel, which only the native backend has', () => {
    expect(tf.getKernel(RELU_GRAD, backend) !== undefined).toBe(backend === 'tensorflow');
    if (backend !== 'tensorflow') return;
    const dx = tf.tidy(
      () =>
        tf.engine().runKernel(RELU_GRAD, { dy: tf.tensor2d(DY), x: tf.tensor2d(X) }) as tf.Tensor,
    );
    expect(Array.from(dx.dataSync())).toEqual(MASKED);
    dx.dispose();
  });

  it('the fused dense kernel with ReLU: no gradient through units whose pre-activation is 0', () => {
    // z = x·k + b with small integers, so z is exact: z = [[1, 0, -1], [0, 2, 0]].
    const x = [
      [1, 0],
      [0, 1],
    ];
    const k = [
      [1, 0, -1],
      [0, 2, 0],
    ];
    const dy = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const mask = [
      [1, 0, 0],
      [0, 1, 0],
    ];
    const dz = dy.map((row, i) => row.map((v, j) => v * (mask[i]?.[j] as number)));
    // dx = dz·kᵀ, dk = xᵀ·dz, db = Σ_batch dz, by hand.
    const dxHand = dz.map((row) =>
      k.map((kr) => kr.reduce((s, kv, j) => s + kv * (row[j] as number), 0)),
    );
    const dkHand = k.map((_, p) =>
      [0, 1, 2].map((j) =>
        x.reduce((s, xr, i) => s + (xr[p] as number) * (dz[i]?.[j] as number), 0),
      ),
    );
    const dbHand = [0, 1, 2].map((j) => dz.reduce((s, row) => s + (row[j] as number), 0));
    const [dx, dk, db] = tf.tidy(() => {
      const upstream = tf.tensor2d(dy);
      const dense = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf
              .engine()
              .runKernel(DENSE, { x: a, kernel: w, bias: b }, { activation: 'relu' }) as tf.Tensor,
            upstream,
          ),
        );
      return tf.grads(dense)([tf.tensor2d(x), tf.tensor2d(k), tf.zeros([3])]);
    }) as [tf.Tensor, tf.Tensor, tf.Tensor];
    expect(dx.arraySync()).toEqual(dxHand);
    expect(dk.arraySync()).toEqual(dkHand);
    expect(db.arraySync()).toEqual(dbHand);
    tf.dispose([dx, dk, db]);
  });
});
