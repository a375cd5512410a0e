// @onerun/swa: WeightAverager.update vs one tf.add over as many parameters, and
// recomputeBatchNorm vs model.predict over the same examples. Ours and the baseline run
// interleaved in this one process; medians and their ratio are printed.
//   node bench/swa.bench.mjs [--backend=wasm|cpu] [--quick] [--only=update|recompute]
//   (default wasm; --quick: fewer reps, smaller N; --only: just those rows)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { recomputeBatchNorm, WeightAverager } from '@onerun/swa';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const backend = arg('backend', 'wasm');
const quick = process.argv.includes('--quick');
const only = arg('only', 'all');
await tf.setBackend(backend);
await tf.ready();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (t) => `${t.toFixed(2)} ms`;

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Interleaves ours and the baseline `reps` times after `warmup` rounds; returns medians. */
async function compare(ours, base, reps, warmup = 2) {
  for (let i = 0; i < warmup; i++) {
    await ours();
    await base();
  }
  const a = [];
  const b = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      a.push(await time(ours));
      b.push(await time(base));
    } else {
      b.push(await time(base));
      a.push(await time(ours));
    }
  }
  return { ours: median(a), base: median(b), oursMin: Math.min(...a), baseMin: Math.min(...b) };
}

/** An MLP of `layers` dense 1000→1000 layers: ≈ layers × 1.001M parameters. */
function denseModel(layers) {
  const model = tf.sequential();
  for (let i = 0; i < layers; i++) {
    model.add(tf.layers.dense({ units: 1000, inputShape: i === 0 ? [1000] : undefined }));
  }
  return model;
}

console.log(`backend: ${tf.getBackend()}${quick ? ' (quick)' : ''}`);
const rows = [];

for (const [label, layers] of only === 'recompute'
  ? []
  : [
      ['1M', 1],
      ['10M', 10],
    ]) {
  const model = denseModel(layers);
  const params = model.countParams();
  for (const mode of ['swa', 'swa, checkFinite: false', 'ema']) {
    const averager =
      mode === 'ema'
        ? new WeightAverager({ mode: 'ema', decay: 0.99 })
        : new WeightAverager({ mode: 'swa', checkFinite: mode === 'swa' });
    await averager.update(model);
    const a = tf.randomNormal([params]);
    const b = tf.randomNormal([params]);
    const before = tf.memory().numTensors;
    const r = await compare(
      () => averager.update(model),
      async () => {
        tf.add(a, b).dispose();
      },
      quick ? 21 : 101,
    );
    if (tf.memory().numTensors !== before) throw new Error('update leaked tensors');
    rows.push({
      what: `update (${mode}), ${label} = ${params.toLocaleString('en')} params`,
      ...r,
      baseline: `tf.add of ${params.toLocaleString('en')}`,
    });
    tf.dispose([a, b]);
    averager.dispose();
  }
  model.dispose();
}

function bnMlp() {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256 }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 256 }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

function bnCnn() {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

for (const [label, build, shape, n] of only === 'update'
  ? []
  : [
      ['MLP 784-256-256-10, 2 BN', bnMlp, [784], quick ? 2048 : 8192],
      ['CNN 2×(conv+BN+pool), 28×28', bnCnn, [28, 28, 1], quick ? 256 : 1024],
    ]) {
  const model = build();
  const x = tf.randomNormal([n, ...shape]);
  const batchSize = 256;
  const before = tf.memory().numTensors;
  const r = await compare(
    () => recomputeBatchNorm(model, x, { batchSize }),
    async () => {
      const y = model.predict(x, { batchSize });
      await y.data();
      y.dispose();
    },
    quick ? 3 : 9,
    1,
  );
  if (tf.memory().numTensors !== before) throw new Error('recomputeBatchNorm leaked tensors');
  rows.push({
    what: `recomputeBatchNorm, ${label}, N=${n}, batch ${batchSize}`,
    ...r,
    baseline: 'model.predict (same N, batch)',
  });
  // The same forward pass recomputeBatchNorm runs (model.apply per batch), without statistics.
  const r2 = await compare(
    () => recomputeBatchNorm(model, x, { batchSize }),
    async () => {
      for (let b = 0; b < n; b += batchSize) {
        const y = tf.tidy(() =>
          model.apply(tf.slice(x, b, Math.min(batchSize, n - b)), { training: false }),
        );
        await y.data();
        y.dispose();
      }
    },
    quick ? 3 : 9,
    1,
  );
  rows.push({
    what: `recomputeBatchNorm, ${label}, N=${n}, batch ${batchSize}`,
    ...r2,
    baseline: 'model.apply per batch (inference)',
  });
  x.dispose();
  model.dispose();
}

// Medians, and the ratio of minimums too: on a shared machine contention only ever adds time.
console.log('| what | ours (median) | baseline | baseline (median) | ratio | ratio of mins |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.what} | ${ms(r.ours)} | ${r.baseline} | ${ms(r.base)} | ${(r.ours / r.base).toFixed(2)}× | ${(r.oursMin / r.baseMin).toFixed(2)}× |`,
  );
}
