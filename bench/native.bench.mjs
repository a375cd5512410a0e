// Native TensorFlow (tfjs-node built by `pnpm native`) vs wasm (with @onerun/backend's training
// kernels) vs the pure-JS cpu backend, on the reference MLP and CNN: training and inference
// examples/s and the ratio to wasm, all in one run. PyTorch joins when `torch` imports in the
// Python given by --python (default python3); it is never a dependency.
//   node bench/native.bench.mjs [--quick] [--python=/path/to/python] [--cpu-cnn-batch=8]
// Each backend runs in its own child process (libtensorflow never shares a process with another
// backend's timing, and tfjs-node / tfjs-node-gpu are never loaded together); the children run
// one after another, so every figure comes from the same machine state.
//
// Reference workloads, batch 128, SGD with momentum 0.9, softmax cross-entropy, 10 classes:
//   MLP  784-512-256-10, batch norm + ReLU after each hidden layer
//   CNN  28×28×1, conv3×3 32-32-pool-64-64-pool-dense(10), batch norm + ReLU after every conv
// The cpu backend needs ≈ 7 CPU-minutes per batch-128 CNN training step, so it trains the CNN at
// --cpu-cnn-batch (default 8) and its rate is per example.

import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const quick = process.argv.includes('--quick');
const worker = arg('worker', undefined);
const batch = 128;

if (worker !== undefined) await runWorker(worker);
else await runParent();

async function runParent() {
  const here = fileURLToPath(import.meta.url);
  const extra = process.argv.slice(2).filter((a) => !a.startsWith('--python='));
  console.log(
    `${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ` + `batch ${batch}, median step of each measurement, examples/s (wall clock)`,
  );
  const results = [];
  const runs = [
    ['tensorflow', {}],
    ['tensorflow', { TF_NUM_INTRAOP_THREADS: '1' }],
    ['wasm', {}],
    ['cpu', {}],
  ];
  for (const [backend, env] of runs) {
    const r = spawnSync(process.execPath, [here, `--worker=${backend}`, ...extra], {
      env: {
        ...process.env,
        TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2',
        ...env,
      },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${backend}: not measured — ${lastLines(r.stderr || r.stdout)}`);
      continue;
    }
    const result = JSON.parse(line);
    if (env.TF_NUM_INTRAOP_THREADS) result.threads = Number(env.TF_NUM_INTRAOP_THREADS);
    results.push(result);
  }
  for (const threads of [0, 1]) {
    const torch = runTorch(arg('python', 'python3'), threads);
    if (torch.result) results.push(torch.result);
    else {
      console.log(`pytorch: not measured — ${torch.why}`);
      break;
    }
  }

  const wasm = results.find((r) => r.backend === 'wasm');
  const keys = ['mlpTrain', 'mlpInfer', 'cnnTrain', 'cnnInfer'];
  const format = (v, base) => {
    if (v === undefined) return '—';
    const ratio = base ? ` (${(v / base).toFixed(2)}x)` : '';
    return `${v >= 100 ? v.toFixed(0) : v.toFixed(2)}${ratio}`;
  };
  const table = (title, pick) => {
    console.log(title);
    const rows = [['backend', 'threads', 'MLP train', 'MLP infer', 'CNN train', 'CNN infer']];
    for (const r of results) {
      rows.push([
        r.label,
        String(r.threads),
        ...keys.map((k) => format(pick(r)[k], wasm && pick(wasm)[k])),
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) console.log(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
  };
  table('examples/s, wall clock (ratio to wasm)', (r) => r);
  table('examples per CPU-second of the process, all its threads (ratio to wasm)', (r) => r.cpu);
  for (const r of results) if (r.note) console.log(`${r.label}: ${r.note}`);
  const native = results.find((r) => r.backend === 'tensorflow');
  if (native && wasm) {
    const ratio = native.cnnTrain / wasm.cnnTrain;
    console.log(`native CNN training vs wasm, wall clock: ${ratio.toFixed(2)}x (target >= 2x)`);
  }
}

function lastLines(text) {
  return text.trim().split('\n').slice(-3).join(' / ');
}

async function runWorker(backend) {
  const { selectBackend } = await import('@onerun/backend');
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));
  const selection = await selectBackend(backend, { resolveFrom });
  const steps = (n) => (quick ? Math.max(2, Math.ceil(n / 4)) : n);
  const cpuCnnBatch = Number(arg('cpu-cnn-batch', quick ? 2 : 8));

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // Median wall time and median CPU time of the process (all its threads) per step.
  async function timeSteps(n, warmup, step) {
    for (let i = 0; i < warmup; i++) await step();
    const wall = [];
    const cpu = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await step();
      const c = process.cpuUsage(c0);
      wall.push((performance.now() - t0) / 1000);
      cpu.push((c.user + c.system) / 1e6);
    }
    return { wall: median(wall), cpu: median(cpu) };
  }
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
  function mlp() {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [784], units: 512, useBias: false }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.activation({ activation: 'relu' }));
    m.add(tf.layers.dense({ units: 256, useBias: false }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.activation({ activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    return compile(m);
  }
  function cnn() {
    const m = tf.sequential();
    const block = (filters, first) => {
      m.add(
        tf.layers.conv2d({
          ...(first ? { inputShape: [28, 28, 1] } : {}),
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
        }),
      );
      m.add(tf.layers.batchNormalization());
      m.add(tf.layers.activation({ activation: 'relu' }));
    };
    block(32, true);
    block(32);
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    block(64);
    block(64);
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    return compile(m);
  }
  async function measure(model, shape, trainBatch, trainSteps, inferSteps) {
    const train = data(shape, trainBatch);
    const infer = data(shape, batch);
    const trainTime = await timeSteps(trainSteps, 2, () => model.trainOnBatch(train.x, train.y));
    const inferTime = await timeSteps(inferSteps, 2, async () => {
      const p = model.predict(infer.x);
      await p.data();
      p.dispose();
    });
    tf.dispose([train.x, train.y, infer.x, infer.y]);
    model.dispose();
    return {
      train: trainBatch / trainTime.wall,
      infer: batch / inferTime.wall,
      trainCpu: trainBatch / trainTime.cpu,
      inferCpu: batch / inferTime.cpu,
    };
  }
  const slow = backend === 'cpu';
  const m = await measure(mlp(), [784], batch, steps(slow ? 5 : 20), steps(slow ? 5 : 20));
  const cnnBatch = slow ? cpuCnnBatch : batch;
  const c = await measure(cnn(), [28, 28, 1], cnnBatch, steps(slow ? 1 : 8), steps(slow ? 2 : 8));
  const label =
    backend === 'tensorflow'
      ? `tfjs-node (TF ${selection.tensorflowVersion})${process.env.TF_NUM_INTRAOP_THREADS ? `, ${process.env.TF_NUM_INTRAOP_THREADS} thread` : ''}`
      : backend === 'wasm'
        ? 'wasm + kernels'
        : 'cpu (pure JS)';
  console.log(
    JSON.stringify({
      backend,
      label,
      threads: selection.threads,
      mlpTrain: m.train,
      mlpInfer: m.infer,
      cnnTrain: c.train,
      cnnInfer: c.infer,
      cpu: {
        mlpTrain: m.trainCpu,
        mlpInfer: m.inferCpu,
        cnnTrain: c.trainCpu,
        cnnInfer: c.inferCpu,
      },
      ...(slow ? { note: `CNN training measured at batch ${cnnBatch} (1 step)` } : {}),
    }),
  );
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
m = measure(mlp(), (784,), steps(20))
c = measure(cnn(), (1, 28, 28), steps(8))
print(json.dumps({'backend': 'pytorch', 'label': 'PyTorch ' + torch.__version__, 'threads': torch.get_num_threads(), 'mlpTrain': m[0], 'mlpInfer': m[1], 'cnnTrain': c[0], 'cnnInfer': c[1], 'cpu': {'mlpTrain': m[2], 'mlpInfer': m[3], 'cnnTrain': c[2], 'cnnInfer': c[3]}}))
`;
  const r = spawnSync(python, ['-c', script, quick ? '1' : '0', String(threads)], {
    encoding: 'utf8',
  });
  if (r.error) return { why: `${python}: ${r.error.message}` };
  const line = r.stdout?.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { why: lastLines(r.stderr || r.stdout) };
  return { result: JSON.parse(line) };
}
