// Shared by this package's tests only (not exported from index.ts, so not in the build).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelVariables, seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';

/** A small MLP with batch norm (so it has non-trainable weights too). */
export function tinyModel(
  options: { inputs?: number; hidden?: number; outputs?: number } = {},
): tf.LayersModel {
  const { inputs = 4, hidden = 6, outputs = 3 } = options;
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: hidden, activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: outputs, activation: 'softmax' }),
    ],
  });
}

/** Gives every weight (batch-norm variances positive) seeded values, so models differ visibly. */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const v of modelVariables(model)) {
    const size = v.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const values = Float32Array.from({ length: size }, () =>
      v.originalName.includes('variance') ? 0.5 + random() : random() * 2 - 1,
    );
    const t = tf.tensor(values, v.shape as number[]);
    v.write(t);
    t.dispose();
  }
}

/** Seeded inputs of shape [n, d]. */
export function seededInputs(n: number, d: number, seed: number): tf.Tensor2D {
  const random = seededRandom(seed);
  return tf.tensor2d(
    Float32Array.from({ length: n * d }, () => random() * 2 - 1),
    [n, d],
  );
}

/** Predictions of `model` on `x` as a plain array (tensors disposed). */
export async function predictArray(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const y = model.predict(x) as tf.Tensor;
  const values = (await y.data()) as Float32Array;
  y.dispose();
  return values;
}

/** All weights of `model` as plain arrays. */
export async function weightArrays(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(
    modelVariables(model).map(async (v) => (await v.read().data()) as Float32Array),
  );
}

/** A fresh temporary folder and a function that removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'onerun-snapshots-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Disposes models and tensors alike (`tf.dispose` does not know models). */
export function disposeAll(...items: { dispose(): unknown }[]): void {
  for (const item of items) item.dispose();
}
