// Shared fixtures for this package's tests (not part of the public API).
import { seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';

/** A seeded 3-class task in 2-D: three interleaved spiral arms with a little noise. */
export function spirals(n: number, seed: number): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const random = seededRandom(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    const r = random();
    const angle = r * 3.5 + (cls * 2 * Math.PI) / 3 + (random() - 0.5) * 0.3;
    x.push(r * Math.cos(angle) * 2, r * Math.sin(angle) * 2);
    y.push(...[0, 1, 2].map((c) => (c === cls ? 1 : 0)));
  }
  return { xs: tf.tensor2d(x, [n, 2]), ys: tf.tensor2d(y, [n, 3]) };
}

/** A small MLP with seeded initial weights, optionally with batch norm, compiled with `loss`. */
export function mlp(
  seed: number,
  options: { hidden?: number; batchNorm?: boolean; loss?: string; outputs?: number } = {},
): tf.LayersModel {
  const hidden = options.hidden ?? 16;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({
      inputShape: [2],
      units: hidden,
      activation: 'tanh',
      kernelInitializer: init(1),
    }),
  ];
  if (options.batchNorm) layers.push(tf.layers.batchNormalization());
  layers.push(
    tf.layers.dense({ units: hidden, activation: 'tanh', kernelInitializer: init(2) }),
    tf.layers.dense({
      units: options.outputs ?? 3,
      activation: options.loss === 'meanSquaredError' ? 'linear' : 'softmax',
      kernelInitializer: init(3),
    }),
  );
  const model = tf.sequential({ layers });
  model.compile({
    optimizer: tf.train.adam(0.03),
    loss: options.loss ?? 'categoricalCrossentropy',
  });
  return model;
}

/** Flat values of a weight list. */
export async function flatValues(ws: readonly tf.Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const w of ws) out.push(...(await w.data()));
  return out;
}

/** Trainable weights of two MLPs from different seeds, trained on the same data. */
export async function trainedEnds(
  data: { xs: tf.Tensor; ys: tf.Tensor },
  seeds: [number, number] = [1, 2],
  epochs = 40,
): Promise<tf.Tensor[][]> {
  const ends: tf.Tensor[][] = [];
  for (const seed of seeds) {
    const m = mlp(seed);
    await m.fit(data.xs, data.ys, { epochs, batchSize: 48, shuffle: false, verbose: 0 });
    ends.push(m.trainableWeights.map((v) => tf.clone(v.read())));
    m.optimizer.dispose();
    m.dispose();
  }
  return ends;
}
