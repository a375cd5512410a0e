// Ensemble inference vs M separate single-model predicts, and peak tensor memory of streaming vs
// in-memory members. Reference MLP 784-256-BN-ReLU-128-BN-ReLU-10 (softmax), 10,000 examples.
//   node bench/ensemble.bench.mjs            (after building; wasm backend, or BACKEND=cpu)
// Env: BACKEND (wasm), N (10000), BATCH (1000), REPS (5), MEMBERS ("5,10").
import { Ensemble } from '@onerun/ensemble';
import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const BACKEND = process.env.BACKEND ?? 'wasm';
const N = Number(process.env.N ?? 10_000);
const BATCH = Number(process.env.BATCH ?? 1000);
const REPS = Number(process.env.REPS ?? 5);
const SIZES = (process.env.MEMBERS ?? '5,10').split(',').map(Number);

await tf.setBackend(BACKEND);
await tf.ready();

function referenceMlp(seed) {
  const init = (s) => tf.initializers.glorotUniform({ seed: s });
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, kernelInitializer: init(seed) }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.dense({ units: 128, kernelInitializer: init(seed + 1) }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(seed + 2) }),
    ],
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

// Wall time and process CPU time (the machine may be shared; wasm runs on one thread).
async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

const x = tf.randomNormal([N, 784], 0, 1, 'float32', 1);
console.log(
  `backend ${tf.getBackend()}, reference MLP 784-256-BN-ReLU-128-BN-ReLU-10 softmax, ` +
    `${N} examples, batchSize ${BATCH}, median of ${REPS} interleaved reps`,
);

for (const M of SIZES) {
  const models = Array.from({ length: M }, (_, i) => referenceMlp(1000 + 10 * i));
  const ensemble = new Ensemble(models);
  // Baseline A: what a user does without onerun — M predicts over all of x, one model at a time
  // (the outputs are not even combined).
  const perModel = async () => {
    for (const m of models) {
      const out = m.predict(x, { batchSize: BATCH });
      await out.data();
      out.dispose();
    }
  };
  // Baseline B: the same M predicts in the ensemble's loop order (each batch through every
  // model), so the ratio isolates the cost of combining.
  const perBatch = async () => {
    const parts = models.map(() => []);
    for (let b = 0; b < N; b += BATCH) {
      const xs = tf.slice(x, [b], [Math.min(BATCH, N - b)]);
      for (const [i, m] of models.entries()) parts[i].push(m.predict(xs, { batchSize: BATCH }));
      xs.dispose();
    }
    for (const p of parts) {
      const out = tf.concat(p, 0);
      await out.data();
      tf.dispose([out, ...p]);
    }
  };
  const ours = async () => {
    const out = await ensemble.predict(x, { batchSize: BATCH });
    await out.data();
    out.dispose();
  };
  const runs = { perModel: [], perBatch: [], ours: [] };
  const fns = { perModel, perBatch, ours };
  for (const f of Object.values(fns)) await f(); // warm-up
  const names = Object.keys(fns);
  for (let r = 0; r < REPS; r++) {
    // Rotate the order each rep, so drift favours none of them.
    for (let j = 0; j < names.length; j++) {
      const name = names[(r + j) % names.length];
      runs[name].push(await timed(fns[name]));
    }
  }
  for (const clock of ['wall', 'cpu']) {
    const [a, b, o] = ['perModel', 'perBatch', 'ours'].map((k) =>
      median(runs[k].map((t) => t[clock])),
    );
    console.log(
      `M=${String(M).padStart(2)} ${clock.padEnd(4)}  ensemble.predict ${o.toFixed(0)} ms | ` +
        `A: ${M} × model.predict(x) ${a.toFixed(0)} ms, ratio ${(o / a).toFixed(3)}x | ` +
        `B: same predicts batch-major ${b.toFixed(0)} ms, ratio ${(o / b).toFixed(3)}x  (target ≤ 1.05x)`,
    );
  }

  // Peak tensor memory (tf.profile high-water of tf.memory().numBytes over every kernel) above
  // what was allocated before (x), including loading the members from a store.
  const store = new MemorySnapshotStore();
  for (const [step, m] of models.entries()) await store.save(m, { step });
  for (const m of models) m.dispose();
  const peaks = {};
  for (const stream of [false, true]) {
    const start = tf.memory().numBytes;
    const info = await tf.profile(async () => {
      const e = await Ensemble.fromStore(store, { stream });
      const out = await e.predict(x, { batchSize: BATCH });
      await out.data();
      out.dispose();
      e.dispose();
    });
    peaks[stream ? 'streaming' : 'in-memory'] = info.peakBytes - start;
  }
  console.log(
    `M=${String(M).padStart(2)} peak tensor bytes above x: in-memory ${mib(peaks['in-memory'])}, ` +
      `streaming ${mib(peaks.streaming)} (${(peaks.streaming / peaks['in-memory']).toFixed(2)}x)`,
  );
}
x.dispose();
