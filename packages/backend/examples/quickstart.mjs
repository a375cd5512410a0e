// Pick the fastest backend present and train a small convnet on it.
//   npx tsup --config packages/backend/tsup.config.ts  (or the workspace build), then
//   node packages/backend/examples/quickstart.mjs
import { selectBackend } from '@onerun/backend';
import * as tf from '@tensorflow/tfjs';

const selection = await selectBackend(); // 'auto': tfjs-node-gpu, tfjs-node, wasm, cpu
console.log(selection.summary);
if (selection.wasmKernels)
  console.log('wasm training kernels:', selection.wasmKernels.registered.join(', '));

// Synthetic 28×28 images: class k has a bright vertical bar at column 2k + 4.
const n = 512;
const pixels = new Float32Array(n * 28 * 28);
const labels = new Int32Array(n);
for (let i = 0; i < n; i++) {
  labels[i] = i % 10;
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const bar = c === 2 * labels[i] + 4 || c === 2 * labels[i] + 5;
      pixels[(i * 28 + r) * 28 + c] = (bar ? 1 : 0) + 0.3 * Math.sin(i * 7 + r * 3 + c);
    }
  }
}
const xs = tf.tensor4d(pixels, [n, 28, 28, 1]);
const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);

const model = tf.sequential({
  layers: [
    tf.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
    }),
    tf.layers.batchNormalization(),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
    tf.layers.averagePooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dropout({ rate: 0.2 }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({
  optimizer: tf.train.adam(1e-3),
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});

const t0 = performance.now();
await model.fit(xs, ys, {
  epochs: 4,
  batchSize: 64,
  verbose: 0,
  callbacks: {
    onEpochEnd: (epoch, logs) =>
      console.log(
        `epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}  accuracy ${logs.acc.toFixed(3)}  tensors ${tf.memory().numTensors}`,
      ),
  },
});
const seconds = (performance.now() - t0) / 1000;
console.log(`${((4 * n) / seconds).toFixed(0)} examples/s on '${tf.getBackend()}'`);
