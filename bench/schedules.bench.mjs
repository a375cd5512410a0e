// Overhead of @onerun/schedules' ScheduleCallback on model.fit: a 10-epoch fit of a small MLP
// with the callback vs the same fit without it, interleaved in one process (order alternating),
// on the cpu and wasm backends. The shared 2-core machines are noisy, so each fit is timed in
// process CPU time (user + system, which other processes do not inflate) as well as wall time;
// the ratio is the median of per-pair CPU-time ratios. Then the callback's own cost per update
// (beforeUpdate: schedule lookup + Momentum's setLearningRate) is timed directly.
// Run: pnpm build && node bench/schedules.bench.mjs [pairs=21]
import { fgeTriangular, scheduleCallback } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const pairs = Number(process.argv[2] ?? 21);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
};
const median = (xs) => quantile(xs, 0.5);

async function run(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const n = 1024;
  const batchSize = 64; // 32 updates per epoch, 320 per fit
  const xs = tf.randomNormal([n, 32], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 2), 10);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [32], units: 64, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const optimizer = tf.train.momentum(0.05, 0.9);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const cb = scheduleCallback({
    optimizer,
    schedule: fgeTriangular({ lr1: 0.05, lr2: 0.005, cycleSteps: 64 }),
  });
  const fit = async (withCallback) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await model.fit(xs, ys, {
      epochs: 10,
      batchSize,
      verbose: 0,
      callbacks: withCallback ? [cb] : [],
    });
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / 1000, wall };
  };
  await fit(false); // warm-up: kernels, optimizer slots
  await fit(true);
  const without = [];
  const withCb = [];
  const ratios = [];
  const wallRatios = [];
  for (let k = 0; k < pairs; k++) {
    let a;
    let b;
    if (k % 2 === 0) {
      a = await fit(false);
      b = await fit(true);
    } else {
      b = await fit(true);
      a = await fit(false);
    }
    without.push(a.cpu);
    withCb.push(b.cpu);
    ratios.push(b.cpu / a.cpu);
    wallRatios.push(b.wall / a.wall);
  }
  const updates = 10 * Math.ceil(n / batchSize);
  const r = median(ratios);
  console.log(
    `${backend.padEnd(5)} fit(10 epochs, ${updates} updates), CPU time: without ${median(without).toFixed(0)} ms, ` +
      `with ScheduleCallback ${median(withCb).toFixed(0)} ms; median ratio ${r.toFixed(4)} ` +
      `(overhead ${((r - 1) * 100).toFixed(2)}%; ${pairs} interleaved pairs, per-pair ratios ` +
      `IQR ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}; ` +
      `ratio of fastest fits ${(Math.min(...withCb) / Math.min(...without)).toFixed(4)}; ` +
      `wall-time median ratio ${median(wallRatios).toFixed(4)})`,
  );
  // The callback's own work per update, timed alone.
  const k = 20000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < k; i++) cb.beforeUpdate();
  const c = process.cpuUsage(c0);
  const perUpdate = (c.user + c.system) / k;
  const perBatch = (median(without) * 1000) / updates;
  console.log(
    `      beforeUpdate alone: ${perUpdate.toFixed(2)} µs per update vs ${perBatch.toFixed(0)} µs per ` +
      `training batch = ${((100 * perUpdate) / perBatch).toFixed(3)}% of a batch`,
  );
  const before = tf.memory().numTensors;
  await fit(true);
  if (tf.memory().numTensors !== before)
    console.log(`  tensor count changed: ${before} → ${tf.memory().numTensors}`);
  tf.dispose([xs, ys]);
  model.dispose();
  optimizer.dispose();
}

console.log(`node ${process.version}, tfjs ${tf.version.tfjs}`);
for (const backend of ['cpu', 'wasm']) await run(backend);
