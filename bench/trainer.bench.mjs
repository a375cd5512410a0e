// apps/trainer (onerun): training throughput of the reference MLP and CNN on the default backend
// (selectBackend('auto')), and the cost of each method's callbacks (snapshots, FGE collection,
// SWA averaging) against plain training with the same schedule, both in the app's own loop.
// Plain and method runs alternate in this one process; medians of examples/s and their ratio
// are printed.
// On the native backend and on wasm, a third part compares @onerun/backend's fused training paths
// on and off (setFusedTraining, switched between alternating runs in this process): the app's
// loop (train and the methods compare runs) and a user's model.fit with our callbacks.
//   node bench/trainer.bench.mjs [--backend=auto|wasm|cpu] [--reps=3] [--only=fused]
// Needs the built app: pnpm build (or pnpm bench, which builds everything first).
import { existsSync } from 'node:fs';
import { setFusedTraining } from '@onerun/backend';
import { scheduleCallback, sseCosine } from '@onerun/schedules';
import { MemorySnapshotStore, snapshotCallback } from '@onerun/snapshots';
import { swaCallback, WeightAverager } from '@onerun/swa';
import {
  chooseBackend,
  createModel,
  embeddedDataDir,
  loadData,
  resolveConfig,
  trainRun,
} from '../apps/trainer/dist/index.js';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const reps = Number(arg('reps', '3'));
const overheadReps = Number(arg('overhead-reps', '3'));
const backend = await chooseBackend(arg('backend', 'auto'));
console.log(`backend: ${backend.backend} (asked for ${backend.requested})`);
const onlyFused = arg('only', '') === 'fused';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

if (!onlyFused) await throughputAndCallbacks();
if (backend.backend.startsWith('tensorflow') || backend.backend === 'wasm') await fusedOnOff();
else console.log('\nfused training kernels: native backend and wasm only (not in use here)');

async function throughputAndCallbacks() {
  // 0. Loading the full Fashion-MNIST (60k + 10k images) from gzipped IDX, where installed.
  const full = '/usr/share/datasets/fashion-mnist';
  if (existsSync(full)) {
    const t0 = performance.now();
    const d = await loadData({ data: 'fashion-mnist', dataDir: full });
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `load: ${d.train.size} + ${d.test.size} Fashion-MNIST images from ${full} in ${seconds.toFixed(2)} s`,
    );
    d.dispose();
  }

  // 1. Throughput of the reference models (baseline schedule, batch 128).
  for (const [model, limit, epochs] of [
    ['mlp', 10000, 2],
    ['cnn', 1024, 2],
  ]) {
    const config = resolveConfig({
      method: 'baseline',
      model,
      data: 'fashion-mnist',
      epochs,
      trainLimit: limit,
    });
    const sub = await loadData({
      data: 'fashion-mnist',
      dataDir: embeddedDataDir(),
      trainLimit: limit,
    });
    const rates = [];
    for (let i = 0; i < reps; i++) {
      const r = await trainRun({
        config,
        data: sub,
        stores: { members: new MemorySnapshotStore() },
        evaluateEachEpoch: false,
      });
      r.model.dispose();
      rates.push(r.examplesPerSecond);
    }
    sub.dispose();
    console.log(
      `${model}: ${median(rates).toFixed(0)} examples/s training (median of ${reps}; ${limit} images × ${epochs} epochs, batch 128)`,
    );
  }

  // 2. Method callbacks vs plain training with the same schedule (MLP, 3 epochs of 5000 images).
  const small = await loadData({
    data: 'fashion-mnist',
    dataDir: embeddedDataDir(),
    trainLimit: 5000,
  });
  const methods = [
    ['sse', { cycles: 3 }],
    ['fge', { cycles: 2 }],
    ['swa', {}],
  ];
  console.log(
    `\nmethod callbacks vs plain training with the same schedule (medians of ${overheadReps} alternating runs):`,
  );
  console.log(
    '  A/B: examples/s of whole runs; in-loop: share of training time spent inside the callbacks',
  );
  console.log('method  plain ex/s  method ex/s  A/B cost   in-loop plain  method     cost');
  for (const [method, extra] of methods) {
    const config = resolveConfig({
      method,
      model: 'mlp',
      data: 'fashion-mnist',
      epochs: 3,
      trainLimit: 5000,
      ...extra,
    });
    const go = async (plain) => {
      const r = await trainRun({
        config,
        data: small,
        stores: { members: new MemorySnapshotStore() },
        evaluateEachEpoch: false,
        plain,
      });
      r.model.dispose();
      // Share of the training time spent inside the callbacks (rate setting, collection, averaging).
      return { rate: r.examplesPerSecond, share: r.callbackSeconds / r.progress.trainSeconds };
    };
    await go(true); // warm-up
    const plain = [];
    const ours = [];
    for (let i = 0; i < overheadReps; i++) {
      if (i % 2 === 0) {
        plain.push(await go(true));
        ours.push(await go(false));
      } else {
        ours.push(await go(false));
        plain.push(await go(true));
      }
    }
    const p = median(plain.map((x) => x.rate));
    const o = median(ours.map((x) => x.rate));
    const sp = median(plain.map((x) => x.share));
    const so = median(ours.map((x) => x.share));
    const pct = (x) => `${(x * 100).toFixed(2).padStart(7)}%`;
    console.log(
      `${method.padEnd(6)}  ${p.toFixed(0).padStart(10)}  ${o.toFixed(0).padStart(11)}  ${pct(p / o - 1)}   ${pct(sp)}  ${pct(so)}  ${pct(so - sp)}`,
    );
  }
  small.dispose();
}

// 3. Fused training paths on vs off (native backend, wasm): the app's loop and a user's model.fit.
async function fusedOnOff() {
  const rounds = Number(arg('fused-reps', '3'));
  const data = await loadData({
    data: 'fashion-mnist',
    dataDir: embeddedDataDir(),
    trainLimit: 2048,
  });
  const appRun = (model, method, extra) => async () => {
    const config = resolveConfig({
      method,
      model,
      data: 'fashion-mnist',
      epochs: 2,
      trainLimit: 2048,
      ...extra,
    });
    const r = await trainRun({
      config,
      data,
      stores: { members: new MemorySnapshotStore() },
      evaluateEachEpoch: false,
    });
    r.model.dispose();
    return r.examplesPerSecond;
  };
  // A user's model.fit of the same app model with our callbacks: LR schedule, snapshots, SWA.
  const fitRun = (model) => async () => {
    const config = resolveConfig({ method: 'baseline', model, data: 'fashion-mnist', epochs: 2 });
    const { model: m, optimizer } = await createModel(config, data);
    const steps = 2 * Math.ceil(data.train.size / 128);
    const schedule = sseCosine({ lr0: 0.05, totalSteps: steps, cycles: 2 });
    const averager = new WeightAverager({ mode: 'swa' });
    const lr = scheduleCallback({ optimizer, schedule });
    const callbacks = [
      lr,
      snapshotCallback({ store: new MemorySnapshotStore(), schedule: lr }),
      swaCallback({ averager, start: { epoch: 1 }, allowStaleBatchNorm: true }),
    ];
    // The user's model.fit takes tensors: the split's examples as model inputs, made once here.
    const { xs, ys } = data.train.range(0, data.train.size);
    const t0 = performance.now();
    await m.fit(xs, ys, {
      epochs: 2,
      batchSize: 128,
      shuffle: false,
      verbose: 0,
      yieldEvery: 'never',
      callbacks,
    });
    const rate = (2 * data.train.size) / ((performance.now() - t0) / 1000);
    xs.dispose();
    ys.dispose();
    averager.dispose();
    m.dispose();
    return rate;
  };
  const cases = [
    ['app train, MLP, baseline', appRun('mlp', 'baseline', {})],
    ['app train, CNN, baseline', appRun('cnn', 'baseline', {})],
    ['app train, MLP, sse (compare)', appRun('mlp', 'sse', { cycles: 2 })],
    ['app train, CNN, swa (compare)', appRun('cnn', 'swa', {})],
    ['model.fit + our callbacks, MLP', fitRun('mlp')],
    ['model.fit + our callbacks, CNN', fitRun('cnn')],
  ];
  console.log(
    `\nfused training kernels on vs off (${rounds} alternating runs each, median examples/s; 2048 images × 2 epochs):`,
  );
  for (const [label, run] of cases) {
    const on = [];
    const off = [];
    setFusedTraining(true);
    await run(); // warm-up
    for (let i = 0; i < rounds; i++) {
      for (const fused of i % 2 === 0 ? [false, true] : [true, false]) {
        setFusedTraining(fused);
        (fused ? on : off).push(await run());
      }
    }
    setFusedTraining(true);
    const a = median(on);
    const b = median(off);
    console.log(
      `  ${label.padEnd(32)} fused ${a.toFixed(0).padStart(6)}  stock ${b.toFixed(0).padStart(6)}  speed-up ${(a / b).toFixed(2)}x`,
    );
  }
  data.dispose();
}
