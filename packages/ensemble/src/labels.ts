import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * True classes of `n` examples: class indices (a 1-D tensor or array of integers in
 * `[0, classes)`) or one-hot rows (a 2-D `[n, classes]` tensor or array of arrays, each row exactly
 * one 1 and zeros elsewhere). Soft labels are rejected rather than silently rounded.
 */
export type Labels = tf.Tensor | ArrayLike<number> | readonly (readonly number[])[];

function requireIndex(i: number, value: number, classes: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= classes) {
    throw new InvalidArgumentError(`labels[${i}]`, value, `a class index in [0, ${classes})`);
  }
  return value;
}

function oneHotIndex(row: ArrayLike<number>, i: number, classes: number): number {
  if (row.length !== classes) {
    throw new InvalidArgumentError(
      `labels[${i}]`,
      Array.from(row),
      `a one-hot row of ${classes} values`,
    );
  }
  let hot = -1;
  for (let c = 0; c < classes; c++) {
    const v = row[c];
    if (v === 1 && hot === -1) hot = c;
    else if (v !== 0 || v === undefined) hot = -2;
  }
  if (hot < 0) {
    throw new InvalidArgumentError(
      `labels[${i}]`,
      Array.from(row),
      'a one-hot row (exactly one 1, zeros elsewhere)',
    );
  }
  return hot;
}

/** Reads `labels` as class indices, checked against `n` examples and `classes` classes. */
export async function labelIndices(
  labels: Labels,
  n: number,
  classes: number,
): Promise<Int32Array> {
  const out = new Int32Array(n);
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1 && labels.rank !== 2) {
      throw new InvalidArgumentError(
        'labels',
        labels,
        `class indices [${n}] or one-hot rows [${n}, ${classes}]`,
      );
    }
    if (labels.shape[0] !== n) {
      throw new InvalidArgumentError('labels', labels, `${n} labels, one per example`);
    }
    const data = await labels.data();
    if (labels.rank === 1) {
      for (let i = 0; i < n; i++) out[i] = requireIndex(i, data[i] as number, classes);
      return out;
    }
    if (labels.shape[1] !== classes) {
      throw new InvalidArgumentError('labels', labels, `one-hot rows [${n}, ${classes}]`);
    }
    for (let i = 0; i < n; i++) {
      out[i] = oneHotIndex(data.subarray(i * classes, (i + 1) * classes), i, classes);
    }
    return out;
  }
  if (labels.length !== n) {
    throw new InvalidArgumentError('labels', labels, `${n} labels, one per example`);
  }
  for (let i = 0; i < n; i++) {
    const item = (labels as ArrayLike<number | readonly number[]>)[i];
    out[i] =
      typeof item === 'number'
        ? requireIndex(i, item, classes)
        : oneHotIndex(item as readonly number[], i, classes);
  }
  return out;
}
