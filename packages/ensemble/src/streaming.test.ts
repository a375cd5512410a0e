import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMBINE_RULES } from './combine.js';
import { Ensemble } from './ensemble.js';
import { isDisposed, mlp, TrackingStore } from './test-fixtures.js';

// Four seeded MLP members with batch norm; 37 examples so batches of 16 leave a ragged last one.
const M = 4;
let store: TrackingStore;
let x: tf.Tensor2D;
let labels: number[];

beforeAll(async () => {
  store = new TrackingStore();
  for (let i = 0; i < M; i++) {
    const model = mlp(100 + 10 * i);
    // Non-trivial moving statistics, so inference-mode BN matters.
    const bn = model.layers[1] as tf.layers.Layer;
    const [gamma, beta] = bn.getWeights();
    const mean = tf.randomUniform([12], -0.3, 0.3, 'float32', 7 + i);
    const variance = tf.randomUniform([12], 0.5, 2, 'float32', 9 + i);
    bn.setWeights([gamma as tf.Tensor, beta as tf.Tensor, mean, variance]);
    tf.dispose([mean, variance]);
    await store.save(model, { step: i });
    model.dispose();
  }
  x = tf.randomNormal([37, 8], 0, 1, 'float32', 42);
  labels = Array.from({ length: 37 }, (_, i) => (i * 7) % 4);
});

afterAll(() => {
  x.dispose();
});

/** Same structure, every number within 1e-5. */
function expectNear(actual: unknown, expected: unknown): void {
  if (typeof expected === 'number') {
    expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-5);
  } else if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object)).toEqual(Object.keys(expected));
    for (const [key, value] of Object.entries(expected)) {
      expectNear((actual as Record<string, unknown>)[key], value);
    }
  } else {
    expect(actual).toEqual(expected);
  }
}

async function arrays(t: tf.Tensor) {
  const out = await t.array();
  t.dispose();
  return out;
}

describe('streaming from a store', () => {
  it.each(COMBINE_RULES)(
    "'%s': predict and evaluate equal the in-memory (stacked) results to float rounding",
    async (combine) => {
      const weights = [3, 1, 2, 0.5];
      const memory = await Ensemble.fromStore(store, { combine, weights });
      store.track();
      const streaming = await Ensemble.fromStore(store, { combine, weights, stream: true });
      expect(streaming.streaming).toBe(true);
      // In memory the members predict as one stacked model (batch norm folded into the Dense
      // before it); streamed, one at a time.
      const a = (await arrays(await memory.predict(x, { batchSize: 16 }))) as number[][];
      const b = (await arrays(await streaming.predict(x, { batchSize: 16 }))) as number[][];
      expect(b.length).toBe(a.length);
      b.forEach((row, i) => {
        row.forEach((v, c) => {
          expect(Math.abs(v - (a[i]?.[c] as number))).toBeLessThanOrEqual(1e-5);
        });
      });
      const ea = await memory.evaluate(x, labels, { batchSize: 16 });
      const eb = await streaming.evaluate(x, labels, { batchSize: 16 });
      expectNear(eb, ea);
      // Streaming never held two members at once, and freed every one it loaded.
      expect(store.maxAlive).toBe(1);
      expect(store.loaded.slice(-2 * M).every(isDisposed)).toBe(true);
      // Member by member in memory too: then exactly the streaming numbers.
      const oneByOne = await Ensemble.fromStore(store, { combine, weights, stack: false });
      expect(await oneByOne.evaluate(x, labels, { batchSize: 16 })).toEqual(eb);
      expect(await arrays(await oneByOne.predict(x, { batchSize: 16 }))).toEqual(b);
      oneByOne.dispose();
      memory.dispose();
      streaming.dispose();
    },
  );

  it('batch size does not change in-memory predictions beyond float rounding', async () => {
    const e = await Ensemble.fromStore(store);
    const small = (await arrays(await e.predict(x, { batchSize: 5 }))) as number[][];
    const whole = (await arrays(await e.predict(x, { batchSize: 1000 }))) as number[][];
    small.forEach((row, i) => {
      row.forEach((v, c) => {
        expect(v).toBeCloseTo(whole[i]?.[c] as number, 6);
      });
    });
    e.dispose();
  });

  it('keeps tf.memory().numTensors flat across repeated predict and evaluate', async () => {
    const memory = await Ensemble.fromStore(store, { combine: 'logit-mean' });
    const streaming = await Ensemble.fromStore(store, { combine: 'vote', stream: true });
    const round = async () => {
      for (const e of [memory, streaming]) {
        (await e.predict(x, { batchSize: 8 })).dispose();
        await e.evaluate(x, labels, { batchSize: 8 });
      }
    };
    await round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await round();
    expect(tf.memory().numTensors).toBe(before);
    const held = tf.memory().numTensors;
    memory.dispose();
    streaming.dispose();
    // The in-memory ensemble owned its 4 loaded members (8 Dense + 4·4 BN variables each way).
    expect(held - tf.memory().numTensors).toBe(M * 8);
  });

  it('rejects a bad batch size and empty inputs', async () => {
    const e = await Ensemble.fromStore(store, { stream: true });
    await expect(e.predict(x, { batchSize: 0 })).rejects.toThrow(/batchSize: got 0/);
    const empty = tf.zeros([0, 8]);
    await expect(e.predict(empty)).rejects.toThrow(/x.*at least one example/);
    empty.dispose();
  });
});
