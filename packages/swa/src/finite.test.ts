import { NonFiniteError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { WeightAverager } from './averager.js';
import { recomputeBatchNorm } from './batch-norm.js';
import {
  type FiniteStrategy,
  finiteSentinel,
  finiteStrategy,
  firstNonFinite,
  poolChannels,
} from './finite.js';

function sentinel(tensors: tf.Tensor[], strategy: FiniteStrategy): number {
  return tf.tidy(() => finiteSentinel(tensors, strategy).dataSync()[0] as number);
}

describe('finite sentinel', () => {
  // 64×40 is below the pooling threshold; 160×1001 pools with 32 channels, 67×1021 with 1021.
  it.each(
    (['pool', 'sum', 'exact'] as const).flatMap((strategy) =>
      [
        [64, 40],
        [160, 1001],
        [67, 1021],
      ].map(([rows, cols]) => [strategy, rows as number, cols as number] as const),
    ),
  )('%s on [%i, %i]: finite iff every value is finite', (strategy, rows, cols) => {
    const size = rows * cols;
    const ok = [
      tf.randomNormal([rows, cols], 0, 1, 'float32', 1),
      tf.randomNormal([7], 0, 1, 'float32', 2),
    ];
    expect(Number.isFinite(sentinel(ok, strategy))).toBe(true);
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, cols - 1, Math.floor(size / 2) + 1, size - 1]) {
        const bad = tf.tidy(() => {
          const flat = tf.where(
            tf.equal(tf.range(0, size), at),
            tf.fill([size], value),
            tf.ones([size]),
          );
          return tf.reshape(flat, [rows, cols]);
        });
        expect(Number.isFinite(sentinel([ok[1] as tf.Tensor, bad], strategy))).toBe(false);
        bad.dispose();
      }
    }
    tf.dispose(ok);
  });

  it('pools with a divisor in [8, 32], else [33, 1024], and sums small or awkward sizes', () => {
    expect(poolChannels(1_001_000)).toBe(28);
    expect(poolChannels(3 * 3 * 64 * 128)).toBe(32);
    expect(poolChannels(1001 * 160)).toBe(32);
    expect(poolChannels(11 * 13 * 4099)).toBe(13);
    expect(poolChannels(37 * 4099)).toBe(37);
    // 67, 1021 and 4099 are primes: 1021 × 67 pools with 1021 channels.
    expect(poolChannels(1021 * 67)).toBe(1021);
    expect(poolChannels(16_383)).toBe(0);
    expect(poolChannels(7 * 4099)).toBe(0);
  });

  it('names the first non-finite tensor exactly', async () => {
    const ts = [
      tf.ones([3]),
      tf.tensor1d([1, Number.NaN]),
      tf.tensor1d([Number.POSITIVE_INFINITY]),
    ];
    expect(await firstNonFinite(ts)).toBe(1);
    expect(await firstNonFinite([ts[0] as tf.Tensor])).toBe(-1);
    tf.dispose(ts);
  });

  it('picks the sum on the cpu backend, whose sums propagate NaN', async () => {
    expect(await finiteStrategy()).toBe('sum');
  });

  it('on wasm: probes a strategy, rejects NaN updates, keeps tensors flat, recomputes BN', async () => {
    await tf.setBackend('wasm');
    try {
      expect(await finiteStrategy()).toBe('pool');
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [400], units: 64 }),
          tf.layers.batchNormalization(),
          tf.layers.dense({ units: 2 }),
        ],
      });
      const avg = new WeightAverager({ mode: 'swa' });
      await avg.update(model);
      await avg.update(model);
      const before = tf.memory().numTensors;
      // The wasm heap never shrinks; growth here would mean pooling operators leaking memory.
      const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
      const heapBefore = heap().length;
      for (let i = 0; i < 50; i++) await avg.update(model);
      expect(tf.memory().numTensors).toBe(before);
      expect(heap().length).toBe(heapBefore);
      const kernel = model.layers[0]?.getWeights()[0] as tf.Tensor;
      const poisoned = tf.tidy(() => {
        const flat = tf.reshape(kernel, [-1]);
        return tf.reshape(
          tf.where(tf.equal(tf.range(0, flat.size), 777), tf.fill(flat.shape, Number.NaN), flat),
          kernel.shape,
        );
      });
      const bias = model.layers[0]?.getWeights()[1] as tf.Tensor;
      model.layers[0]?.setWeights([poisoned, bias]);
      poisoned.dispose();
      await expect(avg.update(model)).rejects.toBeInstanceOf(NonFiniteError);
      expect(avg.count).toBe(52);
      const xs = tf.randomNormal([50, 40], 3, 2, 'float32', 3);
      const fresh = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [40] })] });
      await recomputeBatchNorm(fresh, xs, { batchSize: 16 });
      const [mean, variance] = tf.tidy(() => {
        const m = tf.moments(xs, 0);
        return [m.mean, m.variance];
      });
      const got = fresh.getWeights();
      expect(
        tf.max(tf.abs(tf.sub(got[2] as tf.Tensor, mean as tf.Tensor))).dataSync()[0],
      ).toBeLessThan(1e-4);
      expect(
        tf.max(tf.abs(tf.sub(got[3] as tf.Tensor, variance as tf.Tensor))).dataSync()[0],
      ).toBeLessThan(1e-3);
      tf.dispose([xs, mean as tf.Tensor, variance as tf.Tensor]);
      fresh.dispose();
      model.dispose();
      avg.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
