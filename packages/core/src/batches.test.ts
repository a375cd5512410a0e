import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { iterateBatches, shuffledSource } from './batches.js';
import { InvalidArgumentError } from './errors.js';
import { seededRandom, shuffledIndices } from './random.js';

async function collect(data: Parameters<typeof iterateBatches>[0], batchSize?: number) {
  const out: { xs: number[]; ys?: number[]; size: number }[] = [];
  for await (const b of iterateBatches(data, batchSize === undefined ? {} : { batchSize })) {
    out.push({
      xs: Array.from((b.xs as tf.Tensor).dataSync()),
      ...(b.ys ? { ys: Array.from((b.ys as tf.Tensor).dataSync()) } : {}),
      size: b.size,
    });
    b.dispose();
  }
  return out;
}

describe('iterateBatches', () => {
  it('slices tensors lazily with a short last batch and frees every slice', async () => {
    const xs = tf.tensor1d([0, 1, 2, 3, 4]);
    const ys = tf.tensor1d([5, 6, 7, 8, 9]);
    const before = tf.memory().numTensors;
    const batches = await collect({ xs, ys }, 2);
    expect(batches.map((b) => b.size)).toEqual([2, 2, 1]);
    expect(batches[2]).toEqual({ xs: [4], ys: [9], size: 1 });
    expect(await collect([xs, ys], 4)).toHaveLength(2);
    expect(await collect(xs, 5)).toEqual([{ xs: [0, 1, 2, 3, 4], size: 5 }]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
  });

  it('reads tf.data datasets and async generators', async () => {
    const ds = tf.data
      .zip({
        xs: tf.data.array([1, 2, 3]).map((v) => tf.scalar(v as number)),
        ys: tf.data.array([0, 1, 0]).map((v) => tf.scalar(v as number)),
      })
      .batch(2);
    const before = tf.memory().numTensors;
    const fromDs = await collect(ds as never);
    expect(fromDs.map((b) => b.xs)).toEqual([[1, 2], [3]]);
    expect(tf.memory().numTensors).toBe(before);
    const t = tf.tensor1d([7, 8]);
    async function* gen() {
      yield { xs: t };
    }
    expect(await collect(gen())).toEqual([{ xs: [7, 8], size: 2 }]);
    expect(t.isDisposed).toBe(false);
    t.dispose();
  });

  it('rejects mismatched example counts and unknown shapes with typed errors', async () => {
    const xs = tf.zeros([4, 2]);
    const ys = tf.zeros([3]);
    await expect(collect({ xs, ys })).rejects.toThrow(InvalidArgumentError);
    await expect(collect({ xs, ys })).rejects.toThrow(/data\.ys.*4 examples/);
    await expect(collect({ foo: 1 } as never)).rejects.toThrow(/Invalid data/);
    tf.dispose([xs, ys]);
  });
});

describe('seededRandom', () => {
  it('repeats under a seed and shuffles to a permutation', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const p = Array.from(shuffledIndices(10, seededRandom(3)));
    expect([...p].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('shuffledSource', () => {
  it('gathers xs and ys in the given order and frees only its copy', async () => {
    const xs = tf.tensor2d([[0], [1], [2], [3]]);
    const ys = tf.tensor1d([10, 11, 12, 13]);
    const before = tf.memory().numTensors;
    const shuffled = shuffledSource([xs, ys], () => Int32Array.from([2, 0, 3, 1]));
    const { xs: sx, ys: sy } = shuffled.data as { xs: tf.Tensor; ys: tf.Tensor };
    expect(Array.from(await sx.data())).toEqual([2, 0, 3, 1]);
    expect(Array.from(await sy.data())).toEqual([12, 10, 13, 11]);
    shuffled.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(xs.isDisposed || ys.isDisposed).toBe(false);
    const iterable = (async function* () {})();
    expect(shuffledSource(iterable, () => new Int32Array()).data).toBe(iterable);
    tf.dispose([xs, ys]);
  });
});
