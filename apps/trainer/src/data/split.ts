import type { Batch, DatasetLike } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { normaliseInto, type Preprocessing, type RawValues } from './preprocessing.js';

/** Model inputs and one-hot targets of some examples: new tensors, the caller's to dispose. */
export interface SplitBatch {
  xs: tf.Tensor;
  ys: tf.Tensor2D;
}

/**
 * One split of a data set. The examples stay as the data stores them (bytes for images) on the
 * CPU; model inputs are made per batch, as float32 `(raw - mean) / std` (see `Preprocessing`), so
 * the memory a data set takes is its raw size, not four times it on the backend.
 */
export class Split {
  /** Number of examples. */
  readonly size: number;
  /** Shape of one example as the model takes it. */
  readonly shape: readonly number[];
  private readonly per: number;

  /**
   * @param raw The examples' raw values, `size × prod(shape)` (a view is fine: nothing is copied).
   * @param labels Class index of each example.
   */
  constructor(
    readonly raw: RawValues,
    readonly labels: Int32Array,
    shape: readonly number[],
    readonly classes: number,
    readonly preprocessing: Pick<Preprocessing, 'mean' | 'std'>,
  ) {
    this.size = labels.length;
    this.shape = [...shape];
    this.per = shape.reduce((a, b) => a * b, 1);
  }

  /** The examples at `indices` (in that order). Synchronous: usable inside `tf.tidy`. */
  take(indices: ArrayLike<number>): SplitBatch {
    const n = indices.length;
    const values = normaliseInto(
      this.raw,
      this.per,
      indices,
      this.preprocessing,
      new Float32Array(n * this.per),
    );
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) labels[i] = this.labels[indices[i]!]!;
    return tf.tidy(() => ({
      xs: tf.tensor(values, [n, ...this.shape]),
      ys: tf.oneHot(tf.tensor1d(labels, 'int32'), this.classes).toFloat() as tf.Tensor2D,
    }));
  }

  /** The examples `begin … begin + size − 1`. */
  range(begin: number, size: number): SplitBatch {
    return this.take(consecutive(begin, size));
  }

  /** Model inputs of the whole split as one tensor (evaluation of a test split; the caller disposes). */
  inputs(): tf.Tensor {
    const { xs, ys } = this.range(0, this.size);
    ys.dispose();
    return xs;
  }

  /**
   * The split's inputs in batches of `batchSize`, in order, as a `tf.data`-like source that the
   * packages iterate (`recomputeBatchNorm`, `evaluatePath`): each batch is made when it is needed
   * and freed after it is used, and the source can be iterated any number of times.
   */
  batches(batchSize: number, limit = this.size): DatasetLike<Batch> {
    const n = Math.min(limit, this.size);
    return {
      iterator: async () => {
        let begin = 0;
        return {
          next: async (): Promise<IteratorResult<Batch>> => {
            if (begin >= n) return { done: true, value: undefined };
            const size = Math.min(batchSize, n - begin);
            const { xs, ys } = this.range(begin, size);
            ys.dispose();
            begin += size;
            return { done: false, value: { xs } };
          },
        };
      },
    };
  }

  /** The examples `start … end − 1` as a split of their own (views, no copy). */
  slice(start: number, end: number): Split {
    return new Split(
      this.raw.subarray(start * this.per, end * this.per),
      this.labels.subarray(start, end),
      this.shape,
      this.classes,
      this.preprocessing,
    );
  }
}

function consecutive(begin: number, size: number): Int32Array {
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) out[i] = begin + i;
  return out;
}
