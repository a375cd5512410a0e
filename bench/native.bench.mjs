// Step-level benchmark (issues 13 and 18). Native TensorFlow (tfjs-node built by `pnpm native`)
// with @onerun/backend's fused training kernels and without them (stock tfjs), wasm (with
// @onerun/backend's training kernels) and the pure-JS cpu backend, on the reference MLP and CNN:
// training and inference examples/s, time and kernels per step (tf.profile), the ratio to wasm and
// to PyTorch at equal threads. PyTorch joins when `torch` imports in the Python given by --python
// (default python3); it is never a dependency.
//   node bench/native.bench.mjs [--quick] [--no-cpu] [--python=/path/to/python] [--cpu-cnn-batch=8]
//                               [--turn=N]   (steps per turn, both models; default 5 MLP, 2 CNN)
// tfjs-node (fused and stock: the same backend, the flags switched between steps) and wasm run in
// one process, taking turns (5 MLP or 2 CNN steps in a row per turn, closer to a user's run, which
// does not switch backends every step; --turn=1 switches every step), so all see the same machine
// state; that process runs
// twice, with @onerun/backend's thread default (one intra-op thread per core) and with
// TF_NUM_INTRAOP_THREADS=1. The cpu backend is measured in the first one after them (it is orders
// of magnitude slower). PyTorch runs in its own process right before and right after each of the
// two, at the same number of threads (its rate is the mean of the two). tfjs-node-gpu is never
// loaded.
//
// Reference workloads, batch 128, SGD with momentum 0.9, softmax cross-entropy, 10 classes:
//   MLP  784-512-256-10, batch norm + ReLU after each hidden layer
//   CNN  28×28×1, conv3×3 32-32-pool-64-64-pool-dense(10), batch norm + ReLU after every conv
// The cpu backend needs ≈ 7 CPU-minutes per batch-128 CNN training step, so it trains the CNN at
// --cpu-cnn-batch (default 8) and its rate is per example.

import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { referenceCnn, referenceMlp } from './reference-models.mjs';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const quick = process.argv.includes('--quick');
const batch = 128;
const KEYS = ['mlpTrain', 'mlpInfer', 'cnnTrain', 'cnnInfer'];

if (process.argv.includes('--worker')) await runWorker();
else await runParent();

async function runParent() {
  const here = fileURLToPath(import.meta.url);
  const extra = process.argv.slice(2).filter((a) => !a.startsWith('--python='));
  const python = arg('python', 'python3');
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`${availableParallelism()} cores, load average ${load()}; batch ${batch}`);
  const rows = [];
  const torchRows = {};
  let torchWhy;
  const threadRuns = [
    { threads: availableParallelism(), env: {} },
    { threads: 1, env: { TF_NUM_INTRAOP_THREADS: '1', ONERUN_BENCH_SKIP_CPU: '1' } },
  ];
  for (const { threads, env } of threadRuns) {
    const torchRuns = [];
    const torch = () => {
      if (torchWhy) return;
      const t = runTorch(python, threads);
      if (t.result) torchRuns.push(t.result);
      else torchWhy = t.why;
    };
    torch();
    const r = spawnSync(process.execPath, [here, '--worker', ...extra], {
      env: {
        ...process.env,
        TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2',
        ...env,
      },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    torch();
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !line.startsWith('[')) {
      console.log(`worker failed: ${lastLines(r.stderr || r.stdout)}`);
      continue;
    }
    rows.push(...JSON.parse(line));
    if (torchRuns.length > 0) torchRows[threads] = meanOfRuns(torchRuns);
  }
  if (torchWhy) console.log(`pytorch: not measured — ${torchWhy}`);
  const wasmOf = (r) => rows.find((w) => w.backend === 'wasm' && w.run === r.run);
  const format = (v, base) => {
    if (v === undefined) return '—';
    const ratio = base ? ` (${(v / base).toFixed(2)}x)` : '';
    return `${v >= 100 ? v.toFixed(0) : v.toFixed(2)}${ratio}`;
  };
  const print = (lines) => {
    const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    for (const l of lines) console.log(`  ${l.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
  };
  const header = ['backend', 'threads', 'MLP train', 'MLP infer', 'CNN train', 'CNN infer'];
  const all = [...rows, ...Object.values(torchRows)];
  const table = (title, pick, baseOf) => {
    console.log(title);
    const lines = [header];
    for (const r of all) {
      const base = baseOf(r);
      const b = base ? pick(base) : undefined;
      lines.push([r.label, String(r.threads), ...KEYS.map((k) => format(pick(r)[k], b?.[k]))]);
    }
    print(lines);
  };
  const notWasm = (r) => (r.backend === 'wasm' || r.backend === 'pytorch' ? undefined : wasmOf(r));
  table(
    'examples/s, wall clock, median step (ratio to wasm in the same process)',
    (r) => r.rates,
    notWasm,
  );
  const torchOf = (r) => (r.backend === 'pytorch' ? undefined : torchRows[r.threads]);
  if (Object.keys(torchRows).length > 0) {
    table(
      'examples/s, wall clock (ratio to PyTorch at the same number of threads)',
      (r) => r.rates,
      torchOf,
    );
  }
  table(
    'examples per CPU-second of the process, all its threads (ratio to wasm)',
    (r) => r.cpu,
    notWasm,
  );
  console.log('ms per step (median, wall clock) | kernels per step (tf.profile of one step)');
  const stepLines = [['backend', 'threads', ...KEYS, ...KEYS.map((k) => `${k} kernels`)]];
  for (const r of all) {
    const ms = (k) =>
      r.rates[k]
        ? (((k.endsWith('Train') ? r.trainBatch?.[k] : batch) ?? batch) / r.rates[k]) * 1000
        : undefined;
    stepLines.push([
      r.label,
      String(r.threads),
      ...KEYS.map((k) => (ms(k) === undefined ? '—' : ms(k).toFixed(1))),
      ...KEYS.map((k) => String(r.kernels?.[k] ?? '—')),
    ]);
  }
  print(stepLines);
  for (const r of all) if (r.note) console.log(`${r.label}: ${r.note}`);
  console.log(
    'targets (issue 18: native >= 0.6x PyTorch, wasm >= 0.2x, at equal threads; issue 13: native CNN >= 2x wasm):',
  );
  for (const r of rows.filter((row) => row.backend !== 'cpu')) {
    const parts = [];
    const torchRow = torchRows[r.threads];
    for (const k of ['mlpTrain', 'cnnTrain']) {
      if (torchRow) parts.push(`${k} ${(r.rates[k] / torchRow.rates[k]).toFixed(2)}x PyTorch`);
    }
    const w = notWasm(r);
    if (w) parts.push(`cnnTrain ${(r.rates.cnnTrain / w.rates.cnnTrain).toFixed(2)}x wasm`);
    console.log(`  ${r.label}, ${r.threads} thread(s): ${parts.join(', ')}`);
  }
  // TensorFlow's intra-op pool is a setting: given the cores PyTorch uses, the faster of the
  // native runs is what a user who sets `nativeThreads` gets.
  const cores = availableParallelism();
  const torchAll = torchRows[cores];
  const fusedRows = rows.filter((r) => r.id === 'native-fused');
  if (torchAll && fusedRows.length > 1) {
    const parts = ['mlpTrain', 'cnnTrain'].map((k) => {
      const best = fusedRows.reduce((a, b) => (b.rates[k] > a.rates[k] ? b : a));
      const ratio = (best.rates[k] / torchAll.rates[k]).toFixed(2);
      return `${k} ${ratio}x PyTorch (intra-op ${best.threads})`;
    });
    console.log(
      `  fused kernels, faster intra-op setting vs PyTorch at ${cores} threads: ${parts.join(', ')}`,
    );
  }
  console.log(`load average now ${load()}`);
}

function meanOfRuns(runs) {
  const mean = (pick) =>
    Object.fromEntries(
      KEYS.map((k) => [k, runs.reduce((s, r) => s + pick(r)[k], 0) / runs.length]),
    );
  const label = `${runs[0].label} (mean of ${runs.length} runs)`;
  return { ...runs[0], label, rates: mean((r) => r.rates), cpu: mean((r) => r.cpu) };
}

function lastLines(text) {
  return text.trim().split('\n').slice(-3).join(' / ');
}

async function runWorker() {
  const backendPackage = await import('@onerun/backend');
  const { selectBackend, setFusedTraining } = backendPackage;
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));
  // Without a built tfjs-node (`pnpm native`) wasm and cpu are still measured, and the reason shown.
  const native = await selectBackend('tensorflow', { resolveFrom }).catch((error) => error);
  const hasNative = !(native instanceof Error);
  const wasm = await selectBackend('wasm');
  // Fused paths: all on the native backend, dense and cross-entropy on wasm; the flags are switched
  // before each turn.
  const fast = [
    ...(hasNative
      ? [
          { id: 'native-stock', backend: 'tensorflow', fused: false },
          { id: 'native-fused', backend: 'tensorflow', fused: true },
        ]
      : []),
    { id: 'wasm', backend: 'wasm', fused: true },
    { id: 'wasm-stock', backend: 'wasm', fused: false },
  ];
  const steps = (n) => (quick ? Math.max(2, Math.ceil(n / 4)) : n);
  const cpuCnnBatch = Number(arg('cpu-cnn-batch', quick ? 2 : 8));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  function data(shape, size) {
    const x = tf.randomNormal([size, ...shape], 0, 1, 'float32', 1);
    const labels = tf.randomUniform([size], 0, 10, 'int32', 2);
    const y = tf.oneHot(labels, 10).toFloat();
    labels.dispose();
    return { x, y };
  }
  function compile(m) {
    m.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
    return m;
  }
  const mlp = () => compile(referenceMlp(tf));
  const cnn = () => compile(referenceCnn(tf));
  const models = { mlp: [mlp, [784]], cnn: [cnn, [28, 28, 1]] };
  const activate = async (s) => {
    await tf.setBackend(s.backend);
    setFusedTraining(s.fused);
  };

  // One model + data set per subject, created while its backend is active (tensors live on the
  // backend that made them); then the subjects take turns, one step each.
  // Each turn runs `block` steps of one subject in a row (the first of them pays for the switch
  // of backend and flags, the median step does not), then the next subject takes its turn.
  async function interleaved(subjectsIn, kind, trainBatch, n, block = 1) {
    const [build, shape] = models[kind];
    const subjects = [];
    for (const subject of subjectsIn) {
      await activate(subject);
      const train = data(shape, trainBatch);
      const infer = data(shape, batch);
      subjects.push({ ...subject, model: build(), train, infer, times: {}, kernels: {} });
    }
    const phases = {
      Train: (s) => s.model.trainOnBatch(s.train.x, s.train.y),
      Infer: async (s) => {
        const p = s.model.predict(s.infer.x);
        await p.data();
        p.dispose();
      },
    };
    for (const [phase, step] of Object.entries(phases)) {
      for (const s of subjects) {
        await activate(s);
        for (let i = 0; i < Math.min(2, n); i++) await step(s);
        const profile = await tf.profile(() => step(s));
        s.kernels[`${kind}${phase}`] = profile.kernels.length;
        s.times[phase] = { wall: [], cpu: [] };
      }
      for (let i = 0; i < n; i++) {
        for (const s of subjects) {
          await activate(s);
          for (let j = 0; j < block; j++) {
            const t0 = performance.now();
            const c0 = process.cpuUsage();
            await step(s);
            const c = process.cpuUsage(c0);
            s.times[phase].wall.push((performance.now() - t0) / 1000);
            s.times[phase].cpu.push((c.user + c.system) / 1e6);
          }
        }
      }
    }
    const out = {};
    for (const s of subjects) {
      await activate(s);
      const size = { Train: trainBatch, Infer: batch };
      out[s.id] = { kernels: s.kernels, trainBatch: { [`${kind}Train`]: trainBatch } };
      for (const phase of ['Train', 'Infer']) {
        out[s.id][`${kind}${phase}`] = {
          wall: size[phase] / median(s.times[phase].wall),
          cpu: size[phase] / median(s.times[phase].cpu),
        };
      }
      tf.dispose([s.train.x, s.train.y, s.infer.x, s.infer.y]);
      s.model.dispose();
    }
    return out;
  }
  const measured = {};
  const merge = (part) => {
    for (const [id, values] of Object.entries(part)) {
      const before = measured[id] ?? { kernels: {}, trainBatch: {} };
      measured[id] = {
        ...before,
        ...values,
        kernels: { ...before.kernels, ...values.kernels },
        trainBatch: { ...before.trainBatch, ...values.trainBatch },
      };
    }
  };
  const turn = (n) => Number(arg('turn', n));
  merge(await interleaved(fast, 'mlp', batch, steps(20), turn(5)));
  merge(await interleaved(fast, 'cnn', batch, steps(8), turn(2)));
  const skipCpu = process.env.ONERUN_BENCH_SKIP_CPU === '1' || process.argv.includes('--no-cpu');
  const cpu = { id: 'cpu', backend: 'cpu', fused: false };
  if (!skipCpu) {
    merge(await interleaved([cpu], 'mlp', batch, steps(5)));
    merge(await interleaved([cpu], 'cnn', cpuCnnBatch, 1));
  }
  const intraOp = Number(process.env.TF_NUM_INTRAOP_THREADS) || availableParallelism();
  const run = intraOp;
  const rates = (id, pick) => Object.fromEntries(KEYS.map((k) => [k, measured[id][k]?.[pick]]));
  const row = (id, backend, label, threadCount, note) => ({
    id,
    backend,
    label,
    run,
    threads: threadCount,
    rates: rates(id, 'wall'),
    cpu: rates(id, 'cpu'),
    kernels: measured[id].kernels,
    trainBatch: measured[id].trainBatch,
    ...(note ? { note } : {}),
  });
  const rows = [];
  if (hasNative) {
    const tfLabel = `tfjs-node, TF ${native.tensorflowVersion}`;
    rows.push(row('native-fused', 'tensorflow', `${tfLabel}, fused kernels`, intraOp));
    rows.push(row('native-stock', 'tensorflow', `${tfLabel}, stock tfjs`, intraOp));
  }
  const withRun = run === 1 ? ' (with the 1-thread run)' : '';
  const wasmRow = row('wasm', 'wasm', `wasm + kernels, fused${withRun}`, 1);
  if (!hasNative) wasmRow.note = `tfjs-node not measured: ${native.message}`;
  rows.push(wasmRow);
  rows.push(row('wasm-stock', 'wasm', `wasm + kernels, stock tfjs${withRun}`, 1));
  if (!skipCpu) {
    rows.push(
      row(
        'cpu',
        'cpu',
        'cpu (pure JS)',
        1,
        `CNN training measured at batch ${cpuCnnBatch}, 1 step`,
      ),
    );
  }
  if (wasm.backend !== 'wasm') throw new Error('wasm did not load');
  console.log(JSON.stringify(rows));
}

// The same two models and steps in PyTorch (float32, channels-first, BN momentum 0.01 = Keras 0.99).
function runTorch(python, threads) {
  const script = `
import json, time, statistics, sys, torch
from torch import nn
quick = sys.argv[1] == '1'
if int(sys.argv[2]) > 0: torch.set_num_threads(int(sys.argv[2]))
torch.manual_seed(0)
def steps(n): return max(2, -(-n // 4)) if quick else n
def bn(c, d): return (nn.BatchNorm1d if d == 1 else nn.BatchNorm2d)(c, eps=1e-3, momentum=0.01)
mlp = lambda: nn.Sequential(nn.Linear(784, 512, bias=False), bn(512, 1), nn.ReLU(), nn.Linear(512, 256, bias=False), bn(256, 1), nn.ReLU(), nn.Linear(256, 10))
def block(i, o): return [nn.Conv2d(i, o, 3, padding=1, bias=False), bn(o, 2), nn.ReLU()]
cnn = lambda: nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
def timed(n, f):
    for _ in range(2): f()
    t, c = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time(); f()
        t.append(time.perf_counter() - t0); c.append(time.process_time() - c0)
    return statistics.median(t), statistics.median(c)
def measure(model, shape, n):
    x = torch.randn(128, *shape); y = torch.randint(0, 10, (128,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss = nn.CrossEntropyLoss()
    def train():
        opt.zero_grad(); l = loss(model(x), y); l.backward(); opt.step(); l.item()
    model.train(); tt = timed(n, train)
    model.eval()
    with torch.no_grad(): ti = timed(n, lambda: model(x).sum().item())
    return [128 / tt[0], 128 / ti[0], 128 / tt[1], 128 / ti[1]]
m = measure(mlp(), (784,), steps(100))
c = measure(cnn(), (1, 28, 28), steps(16))
print(json.dumps({'backend': 'pytorch', 'label': 'PyTorch ' + torch.__version__, 'threads': torch.get_num_threads(), 'rates': {'mlpTrain': m[0], 'mlpInfer': m[1], 'cnnTrain': c[0], 'cnnInfer': c[1]}, 'cpu': {'mlpTrain': m[2], 'mlpInfer': m[3], 'cnnTrain': c[2], 'cnnInfer': c[3]}}))
`;
  const r = spawnSync(python, ['-c', script, quick ? '1' : '0', String(threads)], {
    encoding: 'utf8',
  });
  if (r.error) return { why: `${python}: ${r.error.message}` };
  const line = r.stdout?.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { why: lastLines(r.stderr || r.stdout) };
  return { result: JSON.parse(line) };
}
