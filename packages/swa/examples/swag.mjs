// SWAG on a toy task: fit a Gaussian to the late SGD iterates, then average the predictions of
// models sampled from it (each with its batch-norm statistics recomputed). Run from the
// repository root after building: node packages/swa/examples/swag.mjs
import { recomputeBatchNorm, Swag } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
// The class is the largest of the first three features; 512 examples to train, 512 to test.
const data = (seed) => {
  const xs = tf.randomNormal([512, 8], 0, 1, 'float32', seed);
  return { xs, ys: tf.oneHot(tf.argMax(tf.slice(xs, [0, 0], [-1, 3]), 1), 3) };
};
const train = data(1);
const test = data(2);
const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [8],
      units: 32,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }),
    tf.layers.batchNormalization(),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    }),
  ],
});
model.compile({ optimizer: tf.train.sgd(0.2), loss: 'categoricalCrossentropy' });

const swag = new Swag({ rank: 10 });
await model.fit(train.xs, train.ys, {
  epochs: 30,
  batchSize: 32,
  shuffle: false,
  verbose: 0,
  callbacks: {
    onEpochEnd: async (epoch) => {
      if (epoch >= 10) await swag.update(model); // one update per epoch over the last 20
    },
  },
});

const nll = (probs) =>
  tf.tidy(() => tf.metrics.categoricalCrossentropy(test.ys, probs).mean().dataSync()[0]);
const accuracy = (probs) =>
  tf.tidy(() => tf.metrics.categoricalAccuracy(test.ys, probs).mean().dataSync()[0]);
const report = (name, probs) =>
  console.log(
    `${name.padEnd(28)} NLL ${nll(probs).toFixed(4)}  accuracy ${accuracy(probs).toFixed(4)}`,
  );

const last = model.predict(test.xs);
report('last iterate', last);

swag.copyTo(model);
await recomputeBatchNorm(model, train.xs, { batchSize: 128 });
const swa = model.predict(test.xs);
report('SWA mean (SWAG w̄)', swa);

// Bayesian model averaging over 10 samples, each with recomputed batch-norm statistics.
let sum = tf.zerosLike(swa);
for (let i = 0; i < 10; i++) {
  swag.sampleInto(model, { seed: i }); // scale 0.5, diagonal + low-rank covariance
  await recomputeBatchNorm(model, train.xs, { batchSize: 128 });
  const probs = model.predict(test.xs);
  const next = tf.add(sum, probs);
  tf.dispose([sum, probs]);
  sum = next;
}
const bma = tf.div(sum, 10);
report('SWAG, 10 samples averaged', bma);
console.log(`updates ${swag.count}, deviation columns ${swag.columns}`);
tf.dispose([last, swa, sum, bma]);
swag.dispose();
