// Cost of one @onerun/fge fitCurve step vs one ordinary training step of the same model.
// Model: MLP 784→256(BN)→128→10 (Fashion-MNIST sized, ~236k weights), batch 128, Momentum 0.9.
// Each round runs K steps of each variant over the same batches, interleaved (order alternating):
//   fitCurve  — fitCurve(model, bezierCurve(w1, w2), data) (one bend): per batch draw t, write
//               φ(t) into the model, forward/backward, scale the gradient onto the bend, update;
//   minimize  — tf.tidy(() => optimizer.minimize(loss of model.apply(x, {training: true})));
//   trainOnBatch — await model.trainOnBatch(x, y) (also reads the loss back every step).
// Times are process CPU time (user + system; others' load does not inflate it) per step; the
// ratio is the median of per-round ratios. On the cpu and wasm backends.
// Run: pnpm build && node bench/fge.bench.mjs [rounds=7] [steps=8]
import { bezierCurve, fitCurve } from '@onerun/fge';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const rounds = Number(process.argv[2] ?? 7);
const K = Number(process.argv[3] ?? 8);
const batchSize = 128;
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
};
const median = (xs) => quantile(xs, 0.5);

function mlp(seed) {
  const init = (k) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [784],
        units: 256,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

async function cpuTime(fn) {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function run(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const n = K * batchSize;
  const xs = tf.randomNormal([n, 784], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 2), 10);
  const batches = Array.from({ length: K }, (_, i) => [
    xs.slice(i * batchSize, batchSize),
    ys.slice(i * batchSize, batchSize),
  ]);
  const ends = [mlp(1), mlp(2)].map((m) => {
    const w = m.trainableWeights.map((v) => tf.clone(v.read()));
    m.dispose();
    return w;
  });
  const curve = bezierCurve(ends[0], ends[1]);
  const model = mlp(3);
  const optimizer = tf.train.momentum(0.01, 0.9);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const curveOptimizer = tf.train.momentum(0.01, 0.9);
  const vars = model.trainableWeights.map((v) => v.read());

  const variants = {
    fitCurve: () =>
      fitCurve(model, curve, { xs, ys }, { batchSize, optimizer: curveOptimizer, shuffle: false }),
    minimize: async () => {
      for (const [x, y] of batches) {
        tf.tidy(() => {
          optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })),
            false,
            vars,
          );
        });
      }
      // Finish queued work as fitCurve does when it reads its epoch loss back.
      await vars[0].data();
    },
    trainOnBatch: async () => {
      for (const [x, y] of batches) await model.trainOnBatch(x, y);
    },
  };
  const names = Object.keys(variants);
  for (const name of names) await variants[name](); // warm-up: kernels, optimizer slots
  const times = Object.fromEntries(names.map((k) => [k, []]));
  const ratios = { minimize: [], trainOnBatch: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    const t = {};
    for (const name of order) t[name] = (await cpuTime(variants[name])) / K;
    for (const name of names) times[name].push(t[name]);
    ratios.minimize.push(t.fitCurve / t.minimize);
    ratios.trainOnBatch.push(t.fitCurve / t.trainOnBatch);
  }
  const ms = (name) => `${median(times[name]).toFixed(2)} ms`;
  console.log(
    `${backend.padEnd(5)} per step (CPU time, median of ${rounds} rounds × ${K} steps): ` +
      `fitCurve ${ms('fitCurve')}, minimize ${ms('minimize')}, trainOnBatch ${ms('trainOnBatch')}`,
  );
  for (const base of ['minimize', 'trainOnBatch']) {
    const q = ratios[base];
    console.log(
      `      fitCurve / ${base}: median ${median(q).toFixed(3)} ` +
        `(IQR ${quantile(q, 0.25).toFixed(3)}–${quantile(q, 0.75).toFixed(3)}; target ≤ 1.3)`,
    );
  }
  const before = tf.memory().numTensors;
  await variants.fitCurve();
  if (tf.memory().numTensors !== before)
    console.log(`  tensor count changed: ${before} → ${tf.memory().numTensors}`);
  tf.dispose([xs, ys, ...batches.flat(), ...ends.flat()]);
  curve.dispose();
  model.dispose();
  optimizer.dispose();
  curveOptimizer.dispose();
}

console.log(`node ${process.version}, tfjs ${tf.version.tfjs}`);
for (const backend of ['cpu', 'wasm']) await run(backend);
