// apps/trainer (onerun): training throughput of the reference MLP and CNN on the default backend
// (selectBackend('auto')), and the cost of each method's callbacks (snapshots, FGE collection,
// SWA averaging) against plain training with the same schedule, both in the app's own loop.
// Plain and method runs alternate in this one process; medians of examples/s and their ratio
// are printed.
//   node bench/trainer.bench.mjs [--backend=auto|wasm|cpu] [--reps=3]
// Needs the built app: pnpm build (or pnpm bench, which builds everything first).
import { MemorySnapshotStore } from '@onerun/snapshots';
import {
  chooseBackend,
  embeddedDataDir,
  loadData,
  resolveConfig,
  trainRun,
} from '../apps/trainer/dist/index.js';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const reps = Number(arg('reps', '3'));
const overheadReps = Number(arg('overhead-reps', '5'));
const backend = await chooseBackend(arg('backend', 'auto'));
console.log(`backend: ${backend.backend} (asked for ${backend.requested})`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

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

// 2. Method callbacks vs plain training with the same schedule (MLP, 3 epochs of 2048 images).
const small = await loadData({
  data: 'fashion-mnist',
  dataDir: embeddedDataDir(),
  trainLimit: 2048,
});
const methods = [
  ['sse', { cycles: 3 }],
  ['fge', { cycles: 2 }],
  ['swa', {}],
];
console.log(
  `\nmethod callbacks vs plain training with the same schedule (median and best of ${overheadReps})`,
);
console.log('method  plain ex/s  method ex/s  overhead  best plain  best method  overhead');
for (const [method, extra] of methods) {
  const config = resolveConfig({
    method,
    model: 'mlp',
    data: 'fashion-mnist',
    epochs: 3,
    trainLimit: 2048,
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
    return r.examplesPerSecond;
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
  const p = median(plain);
  const o = median(ours);
  const bp = Math.max(...plain);
  const bo = Math.max(...ours);
  const pct = (a, b) => `${((a / b - 1) * 100).toFixed(1).padStart(7)}%`;
  console.log(
    `${method.padEnd(6)}  ${p.toFixed(0).padStart(10)}  ${o.toFixed(0).padStart(11)}  ${pct(p, o)}  ${bp.toFixed(0).padStart(10)}  ${bo.toFixed(0).padStart(11)}  ${pct(bp, bo)}`,
  );
}
small.dispose();
