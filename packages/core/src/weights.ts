import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, NonFiniteError, WeightMismatchError } from './errors.js';

/** Which of a model's weights an operation touches. */
export type WeightSelection = 'all' | 'trainable' | 'non-trainable';

/** Name, shape and dtype of one weight: enough to check that two weight lists line up. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/**
 * The model's weight variables in tfjs's own order (`model.weights`: every trainable weight
 * first, then the non-trainable ones such as batch-norm moving statistics), filtered by
 * `which`. These are the live variables: never dispose them.
 */
export function modelVariables(
  model: LayersModel,
  which: WeightSelection = 'all',
): LayerVariable[] {
  switch (which) {
    case 'all':
      return model.weights;
    case 'trainable':
      return model.trainableWeights;
    case 'non-trainable':
      return model.nonTrainableWeights;
    default:
      throw new InvalidArgumentError('which', which, "'all', 'trainable' or 'non-trainable'");
  }
}

/** The specs of the selected weights, in `modelVariables` order. */
export function weightSpecs(model: LayersModel, which: WeightSelection = 'all'): WeightSpec[] {
  return modelVariables(model, which).map((v) => ({
    name: v.originalName ?? v.name,
    shape: [...v.shape] as number[],
    dtype: v.dtype,
  }));
}

/** The spec of a tensor list, naming each entry by its position. */
export function tensorSpecs(
  tensors: readonly tf.Tensor[],
  names?: readonly string[],
): WeightSpec[] {
  return tensors.map((t, i) => ({
    name: names?.[i] ?? `#${i}`,
    shape: [...t.shape],
    dtype: t.dtype,
  }));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Throws a `WeightMismatchError` naming the first weight whose shape differs between `expected`
 * and `actual` (with both shapes), or the differing counts. `what` says what is being matched,
 * e.g. "snapshot 'sse-3' vs model".
 */
export function assertSameWeights(
  expected: readonly WeightSpec[],
  actual: readonly WeightSpec[],
  what: string,
): void {
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (!sameShape(e.shape, a.shape)) {
      throw new WeightMismatchError(
        `${what}: weight ${i} ('${e.name}') has shape [${e.shape.join(', ')}] but ` +
          `'${a.name}' has shape [${a.shape.join(', ')}]; expected the same architecture.`,
      );
    }
  }
  if (expected.length !== actual.length) {
    throw new WeightMismatchError(
      `${what}: ${expected.length} weights vs ${actual.length}; expected the same architecture.`,
    );
  }
}

/** Independent copies of the selected weights (safe to keep after the model trains on). */
export function readWeights(model: LayersModel, which: WeightSelection = 'all'): tf.Tensor[] {
  return modelVariables(model, which).map((v) => tf.clone(v.read()));
}

/**
 * Writes `tensors` into the selected weights of `model`, in place. Shapes are checked for all
 * weights before any is written, so a mismatch leaves the model untouched. The caller keeps
 * ownership of `tensors` and may dispose them afterwards.
 */
export function writeWeights(
  model: LayersModel,
  tensors: readonly tf.Tensor[],
  which: WeightSelection = 'all',
): void {
  assertSameWeights(weightSpecs(model, which), tensorSpecs(tensors), 'writing weights into model');
  modelVariables(model, which).forEach((v, i) => {
    v.write(tensors[i]!);
  });
}

/** Total number of scalars in the selected weights. */
export function countParameters(model: LayersModel, which: WeightSelection = 'all'): number {
  return modelVariables(model, which).reduce(
    (sum, v) => sum + v.shape.reduce<number>((a, b) => a * (b ?? 0), 1),
    0,
  );
}

/**
 * Index of the first tensor holding NaN or ±Infinity, or -1. Reads one small tensor back from the
 * device (one sum per tensor), so keep it off per-batch hot paths unless that check is the point.
 */
export async function firstNonFinite(tensors: readonly tf.Tensor[]): Promise<number> {
  if (tensors.length === 0) return -1;
  // A sum is NaN or ±Infinity when a value is (IEEE arithmetic), and finite otherwise unless it
  // overflows float32; so only tensors whose sum is not finite are checked value by value. One
  // sum per tensor costs a fraction of an element-wise isFinite pass (8× on wasm, 40× on cpu).
  const sums = tf.tidy(() => tf.stack(tensors.map((t) => tf.sum(tf.cast(t, 'float32')))));
  const values = await sums.data();
  sums.dispose();
  for (const [i, sum] of values.entries()) {
    if (Number.isFinite(sum)) continue;
    const flag = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(tensors[i] as tf.Tensor))));
    const [bad] = await flag.data();
    flag.dispose();
    if (bad) return i;
  }
  return -1;
}

/** Throws `NonFiniteError` naming `what` if any tensor holds NaN or ±Infinity (see `firstNonFinite`). */
export async function assertAllFinite(tensors: readonly tf.Tensor[], what: string): Promise<void> {
  if ((await firstNonFinite(tensors)) >= 0) throw new NonFiniteError(what);
}
