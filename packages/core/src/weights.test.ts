import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NonFiniteError, WeightMismatchError } from './errors.js';
import { batchNormLayers, walkLayers } from './layers.js';
import {
  assertAllFinite,
  countParameters,
  firstNonFinite,
  readWeights,
  weightSpecs,
  writeWeights,
} from './weights.js';

function mlp(hidden: number, seed = 1): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [3],
        units: hidden,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 2 }),
    ],
  });
}

describe('weights', () => {
  it('lists trainable weights first, then BN moving statistics', () => {
    const model = mlp(4);
    const names = weightSpecs(model).map((s) => s.name.split('/').pop());
    expect(names).toEqual([
      'kernel',
      'bias',
      'gamma',
      'beta',
      'kernel',
      'bias',
      'moving_mean',
      'moving_variance',
    ]);
    expect(weightSpecs(model, 'trainable')).toHaveLength(6);
    expect(countParameters(model)).toBe(3 * 4 + 4 + 4 * 4 + 4 * 2 + 2);
    model.dispose();
  });

  it('reads independent copies and writes them back in place', () => {
    const a = mlp(4, 1);
    const b = mlp(4, 2);
    const copies = readWeights(a);
    writeWeights(b, copies);
    tf.dispose(copies);
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wb).toEqual(wa);
    a.dispose();
    b.dispose();
  });

  it('names the first mismatched weight and both shapes, leaving the model untouched', () => {
    const a = mlp(4);
    const b = mlp(5);
    const before = b.getWeights().map((w) => Array.from(w.dataSync()));
    const ws = readWeights(a);
    expect(() => writeWeights(b, ws)).toThrow(WeightMismatchError);
    expect(() => writeWeights(b, ws)).toThrow(/weight 0 .*\[3, 5\].*\[3, 4\]/);
    expect(b.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    tf.dispose(ws);
    a.dispose();
    b.dispose();
  });

  it('detects non-finite values', async () => {
    const ok = tf.tensor([1, 2]);
    const bad = tf.tensor([1, Number.NaN]);
    await expect(assertAllFinite([ok], 'w')).resolves.toBeUndefined();
    await expect(assertAllFinite([ok, bad], 'update')).rejects.toThrow(NonFiniteError);
    tf.dispose([ok, bad]);
  });

  it('names the first tensor holding NaN or ±Infinity, even where sums would overflow', async () => {
    const ts = [
      tf.tensor1d([3e38, 3e38]),
      tf.tensor1d([Number.NEGATIVE_INFINITY]),
      tf.tensor1d([1, Number.NaN]),
    ];
    expect(await firstNonFinite(ts)).toBe(1);
    expect(await firstNonFinite([ts[0] as tf.Tensor, ts[2] as tf.Tensor])).toBe(1);
    expect(await firstNonFinite([ts[0] as tf.Tensor])).toBe(-1);
    expect(await firstNonFinite([])).toBe(-1);
    tf.dispose(ts);
  });
});

describe('layers', () => {
  it('walks nested models and finds every batch-norm layer', () => {
    const inner = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 4 }), tf.layers.batchNormalization()],
    });
    const outer = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4 }),
        tf.layers.batchNormalization(),
        inner,
        tf.layers.dense({ units: 1 }),
      ],
    });
    expect([...walkLayers(outer)]).toHaveLength(5);
    expect(batchNormLayers(outer)).toHaveLength(2);
    outer.dispose();
  });
});
