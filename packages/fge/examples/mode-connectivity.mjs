// Mode connectivity and FGE on a small synthetic task, on the pure-JS cpu backend (a few seconds).
// Run: pnpm build && node packages/fge/examples/mode-connectivity.mjs

import { seededRandom } from '@onerun/core';
import {
  bezierCurve,
  decodeCurve,
  encodeCurve,
  evaluatePath,
  fge,
  fitCurve,
  straightLine,
} from '@onerun/fge';
import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');

// Three interleaved spiral arms in 2-D (seeded).
const random = seededRandom(7);
const x = [];
const y = [];
for (let i = 0; i < 300; i++) {
  const r = random();
  const a = r * 3.5 + ((i % 3) * 2 * Math.PI) / 3 + (random() - 0.5) * 0.3;
  x.push(2 * r * Math.cos(a), 2 * r * Math.sin(a));
  y.push(i % 3);
}
const data = { xs: tf.tensor2d(x, [300, 2]), ys: tf.oneHot(tf.tensor1d(y, 'int32'), 3) };

const mlp = (s) => {
  const init = (k) => tf.initializers.glorotUniform({ seed: s * 10 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [2],
        units: 16,
        activation: 'tanh',
        kernelInitializer: init(1),
      }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.03), loss: 'categoricalCrossentropy' });
  return model;
};

// Two independently trained networks: the ends of the curve.
const models = [mlp(1), mlp(2)];
for (const m of models)
  await m.fit(data.xs, data.ys, { epochs: 40, batchSize: 50, shuffle: false, verbose: 0 });
const [w1, w2] = models.map((m) => m.trainableWeights.map((v) => tf.clone(v.read())));

// Train a one-bend Bezier curve between them (only the bend moves; `model` is a carrier whose
// own weights are restored afterwards).
const model = mlp(3);
const curve = bezierCurve(w1, w2);
const history = await fitCurve(model, curve, data, {
  epochs: 40,
  batchSize: 50,
  learningRate: 0.05,
  weightDecay: 1e-4,
  seed: 1,
});
console.log(
  `fitCurve: ${history.steps} steps, last epoch loss ${history.epochs.at(-1).loss.toFixed(3)}`,
);

// Loss and error along both paths, batch norm recomputed at every point.
for (const path of [straightLine(w1, w2), curve]) {
  const r = await evaluatePath(model, path, data, { points: 11, bnData: data.xs });
  console.log(
    `${r.name.padEnd(16)} loss at t=0.5 ${r.loss[5].toFixed(3)}, max ${r.summary.maxLoss.toFixed(3)} ` +
      `(barrier ${r.summary.lossBarrier.toFixed(3)}), max error ${(100 * r.summary.maxError).toFixed(1)}%`,
  );
}

// Save the curve (JSON manifest + bytes) and load it back.
const { manifest, data: bytes } = await encodeCurve(curve, { meta: { note: 'spirals' } });
const again = decodeCurve(JSON.parse(JSON.stringify(manifest)), bytes);
console.log(`saved ${manifest.kind} curve: ${manifest.numBends} bend, ${bytes.byteLength} bytes`);

// FGE: from the first (pretrained) model, 4 short cycles, one snapshot at each LR minimum.
const store = new MemorySnapshotStore();
const first = models[0];
first.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
const result = await fge(first, data, {
  store,
  lr1: 0.05,
  lr2: 0.005,
  cycleSteps: 12, // 2 epochs of 6 batches
  cycles: 4,
  batchSize: 50,
  shuffle: false,
});
console.log(
  `fge: ${result.collected.length} snapshots at steps ${result.collected.map((e) => e.step).join(', ')} ` +
    `(lr ${result.collected[0].learningRate}) in ${result.steps} updates`,
);
// These feed an ensemble: `await Ensemble.fromStore(store)` from @onerun/ensemble.

again.dispose();
curve.dispose();
tf.dispose([...w1, ...w2, data.xs, data.ys]);
