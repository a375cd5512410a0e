// Inference of the reference MLP (784-512-BN-ReLU-256-BN-ReLU-10 softmax) at batch 128: native
// TensorFlow's model.predict — with tfjs's default batchSize (32, so a 128-row input runs as four
// forward passes plus slices and a concat) and with batchSize 128 (one pass) — and wasm, vs PyTorch
// (eval mode, no_grad, one forward of 128) in the same run. Turns alternate: one block of tfjs
// predictions (every subject), then one PyTorch process timing the same number of forwards.
// Prints kernels per predict (tf.profile) and examples/s, median over turns, as ratios.
//   node bench/predict.bench.mjs [--python=/path/to/python] [--turns=5] [--reps=40]
//   (PyTorch at TensorFlow's intra-op pool: TF_NUM_INTRAOP_THREADS, default one per core)
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { referenceMlp } from './reference-models.mjs';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const TURNS = Number(arg('turns', 5));
const REPS = Number(arg('reps', 40));
const BATCH = 128;
const python = arg('python', 'python3');
const threads = Number(process.env.TF_NUM_INTRAOP_THREADS || availableParallelism());

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
process.env.TF_NUM_INTRAOP_THREADS = String(threads);
const { selectBackend } = await import('@onerun/backend');
const tf = await import('@tensorflow/tfjs');
tf.env().set('PROD', true);
const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const subjects = [];
async function addSubjects(backend) {
  await tf.setBackend(backend);
  const model = referenceMlp(tf);
  const x = tf.randomNormal([BATCH, 784], 0, 1, 'float32', 1);
  const read = async (t) => {
    await t.data();
    t.dispose();
  };
  const label = backend === 'tensorflow' ? 'native' : backend;
  subjects.push(
    { id: `${label} predict(x)`, backend, model, x, run: () => read(model.predict(x)) },
    {
      id: `${label} predict(x, { batchSize: 128 })`,
      backend,
      model,
      x,
      run: () => read(model.predict(x, { batchSize: BATCH })),
    },
  );
}
const native = await selectBackend('tensorflow', { resolveFrom }).catch((e) => e);
if (native instanceof Error) console.log(`native: not measured — ${native.message}`);
else await addSubjects('tensorflow');
await selectBackend('wasm');
await addSubjects('wasm');

const TORCH = `
import sys, time, torch
from torch import nn
torch.set_num_threads(int(sys.argv[2]))
def bn(c): return nn.BatchNorm1d(c, eps=1e-3)
m = nn.Sequential(nn.Linear(784, 512, bias=False), bn(512), nn.ReLU(), nn.Linear(512, 256, bias=False), bn(256), nn.ReLU(), nn.Linear(256, 10), nn.Softmax(dim=1)).eval()
x = torch.randn(128, 784)
with torch.no_grad():
    for _ in range(5): m(x).sum().item()
    t = []
    for _ in range(int(sys.argv[1])):
        t0 = time.perf_counter(); m(x).sum().item(); t.append(time.perf_counter() - t0)
t.sort(); print(t[len(t) // 2])
`;
function torchTurn() {
  const r = spawnSync(python, ['-c', TORCH, String(REPS), String(threads)], { encoding: 'utf8' });
  const last = r.stdout?.trim().split('\n').at(-1) ?? '';
  return r.status === 0 && /^[0-9.e-]+$/.test(last) ? Number(last) * 1000 : undefined;
}

const kernels = {};
for (const s of subjects) {
  await tf.setBackend(s.backend);
  for (let i = 0; i < 3; i++) await s.run();
  kernels[s.id] = (await tf.profile(() => s.run())).kernels.length;
}
const times = Object.fromEntries(subjects.map((s) => [s.id, []]));
const torch = [];
for (let turn = 0; turn < TURNS; turn++) {
  for (const s of subjects) {
    await tf.setBackend(s.backend);
    const t = [];
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      await s.run();
      t.push(performance.now() - t0);
    }
    times[s.id].push(median(t));
  }
  const t = torchTurn();
  if (t !== undefined) torch.push(t);
}
const load = (await import('node:os')).loadavg()[0].toFixed(1);
console.log(
  `reference MLP inference, batch ${BATCH}, ${threads} intra-op thread(s), median of ${TURNS} turns × ${REPS}; load average ${load}`,
);
const torchMs = torch.length > 0 ? median(torch) : undefined;
if (torchMs === undefined) console.log(`pytorch: not measured (${python} could not import torch)`);
else
  console.log(`PyTorch: ${torchMs.toFixed(3)} ms (${Math.round((BATCH / torchMs) * 1000)} ex/s)`);
for (const s of subjects) {
  const ms = median(times[s.id]);
  const vsTorch = torchMs === undefined ? '' : `, ${(torchMs / ms).toFixed(2)}× PyTorch`;
  console.log(
    `${s.id.padEnd(38)} ${ms.toFixed(3)} ms (${Math.round((BATCH / ms) * 1000)} ex/s${vsTorch}), ${kernels[s.id]} kernels`,
  );
}
