import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../select.js';
import type { WasmBackendLike } from './scope.js';
import { expectClose, randomTensor, seededRandom } from './testing.js';

// A small convnet with every layer kind the training kernels serve: conv (stride 1 and 2,
// same/valid), depthwise conv, batch norm, ReLU, max and average pooling, dropout, dense and
// softmax cross-entropy.
function smallCnn(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 2],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      depthMultiplier: 2,
      padding: 'same',
      depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  m.add(
    tf.layers.conv2d({
      filters: 6,
      kernelSize: 2,
      strides: 2,
      padding: 'valid',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }),
  );
  m.add(tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dropout({ rate: 0.25, seed: 4 }));
  m.add(
    tf.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
    }),
  );
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return m;
}

function data(seed: number, n: number): { xs: Float32Array; labels: number[] } {
  const rand = seededRandom(seed);
  const xs = randomTensor(rand, [n, 8, 8, 2]).values as Float32Array;
  const labels = Array.from({ length: n }, () => Math.floor(rand() * 3));
  return { xs, labels };
}

async function trainedWeights(
  backend: 'cpu' | 'wasm',
  initial: Float32Array[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const model = smallCnn();
  model.setWeights(initial.map((v, i) => tf.tensor(v, model.weights[i]?.shape as number[])));
  const { xs, labels } = data(7, 8);
  const x = tf.tensor4d(xs, [8, 8, 8, 2]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  await model.fit(x, y, { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 });
  const out = await Promise.all(
    model.getWeights().map(async (w) => (await w.data()) as Float32Array),
  );
  tf.dispose([x, y]);
  model.dispose();
  return out;
}

beforeAll(async () => {
  await selectBackend('wasm');
  await tf.setBackend('cpu');
});

describe('training a small CNN on wasm with the training kernels', () => {
  it('two fit steps give the same weights (and BN statistics) as on the cpu backend', async () => {
    await tf.setBackend('cpu');
    const init = smallCnn();
    const initial = await Promise.all(
      init.getWeights().map(async (w) => (await w.data()) as Float32Array),
    );
    const shapes = init.weights.map((w) => w.shape);
    const names = init.weights.map((w) => w.originalName);
    init.dispose();
    const cpu = await trainedWeights('cpu', initial);
    const wasm = await trainedWeights('wasm', initial);
    expect(wasm.length).toBe(cpu.length);
    cpu.forEach((expected, i) => {
      // The step really moved the weight (else the comparison would prove nothing) ...
      if (!/moving/.test(names[i] ?? '')) {
        const moved = expected.some((v, j) => Math.abs(v - (initial[i]?.[j] ?? 0)) > 1e-4);
        expect(moved, `${names[i]} changed`).toBe(true);
      }
      // ... and wasm moved it to the same place.
      const shape = shapes[i] as number[];
      expectClose(
        { values: wasm[i] as Float32Array, shape, dtype: 'float32' },
        { values: expected, shape, dtype: 'float32' },
        names[i] ?? String(i),
      );
    });
  });

  it('keeps tf.memory().numTensors and the wasm buffers flat over 200 training steps', async () => {
    await tf.setBackend('wasm');
    const model = smallCnn();
    const { xs, labels } = data(9, 4);
    const x = tf.tensor4d(xs, [4, 8, 8, 2]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const wasm = tf.backend() as unknown as WasmBackendLike;
    await model.trainOnBatch(x, y);
    const tensors = tf.memory().numTensors;
    const buffers = wasm.numDataIds();
    for (let step = 0; step < 200; step++) await model.trainOnBatch(x, y);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(wasm.numDataIds()).toBe(buffers);
    tf.dispose([x, y]);
    model.dispose();
    await tf.setBackend('cpu');
  });
});
