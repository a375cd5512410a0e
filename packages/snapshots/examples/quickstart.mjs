// Snapshot Ensemble training that saves a snapshot at the end of every cosine cycle, then reads
// the snapshots back three ways. Run from the repository root after building:
//   npx --yes pnpm@10.34.9 --filter "@onerun/snapshots..." run build
//   node packages/snapshots/examples/quickstart.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scheduleCallback, sseCosine } from '@onerun/schedules';
import { FileSnapshotStore, fileSnapshotIO, snapshotCallback } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
const dir = await mkdtemp(join(tmpdir(), 'snapshots-example-'));

// A toy problem: is the sum of the 8 inputs positive?
const xs = tf.randomNormal([256, 8], 0, 1, 'float32', 1);
const ys = tf.oneHot(tf.cast(tf.greater(tf.sum(xs, 1), 0), 'int32'), 2);
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }),
    tf.layers.batchNormalization(),
    tf.layers.dense({ units: 2, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });

// 8 epochs × 8 batches = 64 updates, 4 cosine cycles → a snapshot after updates 15, 31, 47, 63.
const schedule = sseCosine({ lr0: 0.1, totalSteps: 64, cycles: 4 });
const store = await FileSnapshotStore.open(join(dir, 'snapshots'), { retain: { last: 3 } });
await model.fit(xs, ys, {
  epochs: 8,
  batchSize: 32,
  verbose: 0,
  callbacks: [
    scheduleCallback({ optimizer: model.optimizer, schedule }),
    snapshotCallback(store, { schedule }, { includeOptimizer: true, tags: { method: 'sse' } }),
  ],
});

for (const e of await store.list()) {
  console.log(
    `${e.id}  step ${e.step}  epoch ${e.epoch}  lr ${e.learningRate?.toExponential(2)}  ` +
      `loss ${e.metrics?.loss?.toFixed(4)}  ${e.byteSize} B  ${e.checksum.slice(0, 19)}…`,
  );
}

const [newest] = (await store.list()).slice(-1);
const x = xs.slice(0, 4);
// 1. Through the store: checksums verified, a new (uncompiled) model.
const loaded = await store.load(newest.id);
// 2. Into an existing model of the same architecture, here with the optimizer state for resuming.
await store.loadWeightsInto(newest.id, model, { includeOptimizer: true });
// 3. With stock tfjs, from the folder alone.
const stock = await tf.loadLayersModel(fileSnapshotIO(await store.path(newest.id)));
for (const m of [model, loaded, stock]) {
  const p = m.predict(x);
  console.log(Array.from(await p.data(), (v) => v.toFixed(4)).join(' '));
  p.dispose();
}

tf.dispose([xs, ys, x]);
for (const m of [model, loaded, stock]) m.dispose();
await rm(dir, { recursive: true, force: true });
