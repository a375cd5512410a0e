// @onerun/backend: training throughput of the reference CNN on the stock pure-JS cpu backend vs
// wasm with this package's training kernels, and the cost per FLOP of the conv backward passes
// (Conv2DBackpropInput / Conv2DBackpropFilter) relative to the forward Conv2D on wasm.
// Both backends run interleaved in this one process; medians and ratios are printed.
//   node bench/backend.bench.mjs [--wasm-steps=8] [--cpu-steps=1] [--cpu-batch=8] [--quick] [--profile]
// --profile: also print the CPU time per wasm kernel in one training step of the reference CNN.
//
// Reference CNN: conv3×3 32-32-pool-64-64-pool-dense(10), batch norm + ReLU after every conv,
// 28×28×1 input, softmax cross-entropy, SGD, batch 128. The stock cpu backend needs minutes per
// batch-128 step here (its Conv2DBackpropFilter is a scalar loop over TensorBuffer.get), so by
// default it trains the same model at --cpu-batch=8 and its throughput is reported per example;
// --cpu-batch=128 measures it at the full batch (slow).

import { selectBackend } from '@onerun/backend';
import * as tf from '@tensorflow/tfjs';
import { referenceCnn } from './reference-models.mjs';

const arg = (name, fallback) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const quick = process.argv.includes('--quick');
const wasmSteps = arg('wasm-steps', quick ? 3 : 8);
const cpuSteps = arg('cpu-steps', 1);
const cpuBatch = arg('cpu-batch', quick ? 2 : 8);
const batch = 128;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// Stock wasm kernels that this package replaces, kept for a side-by-side comparison.
await import('@tensorflow/tfjs-backend-wasm');
const replaced = [
  'Conv2DBackpropInput',
  'Tile',
  'MaxPoolGrad',
  'Sum',
  'Mean',
  'FusedBatchNorm',
  'Identity',
  'BatchMatMul',
];
const stock = Object.fromEntries(replaced.map((k) => [k, tf.getKernel(k, 'wasm')]));

const auto = await selectBackend('auto');
console.log(auto.summary);
if (auto.backend !== 'wasm') await selectBackend('wasm');

function compiledCnn() {
  const m = referenceCnn(tf);
  m.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
  return m;
}

async function trainer(backend, n) {
  await tf.setBackend(backend);
  const model = compiledCnn();
  const x = tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 2), 10);
  const wall = [];
  const cpu = [];
  return {
    wall,
    cpu,
    async step(record) {
      await tf.setBackend(backend);
      const t0 = performance.now();
      const c0 = cpuMs();
      await model.trainOnBatch(x, y); // resolves after the loss is read: the step has finished
      if (record) {
        wall.push(performance.now() - t0);
        cpu.push(cpuMs() - c0);
      }
    },
  };
}

// --- Training throughput, interleaved: wasm block, cpu step, wasm block, ... ---
const wasm = await trainer('wasm', batch);
const cpu = await trainer('cpu', cpuBatch);
await wasm.step(false);
await wasm.step(false);
const perBlock = Math.max(1, Math.ceil(wasmSteps / (cpuSteps + 1)));
let done = 0;
for (let round = 0; round <= cpuSteps; round++) {
  for (let i = 0; i < perBlock && done < wasmSteps; i++, done++) await wasm.step(true);
  if (round < cpuSteps) await cpu.step(true);
}
const rate = (n, ms) => (n * 1000) / ms;
const w = { wall: rate(batch, median(wasm.wall)), cpu: rate(batch, median(wasm.cpu)) };
const c = { wall: rate(cpuBatch, median(cpu.wall)), cpu: rate(cpuBatch, median(cpu.cpu)) };
console.log(
  `\nreference CNN training, examples/s (median step; "cpu-time" = examples per CPU-second of this process)`,
);
console.log(
  `  (a) stock cpu, batch ${cpuBatch}, ${cpuSteps} step(s): ${c.wall.toFixed(2)} wall, ${c.cpu.toFixed(2)} cpu-time`,
);
console.log(
  `  (b) wasm + @onerun/backend kernels, batch ${batch}, ${wasmSteps} steps: ${w.wall.toFixed(1)} wall, ${w.cpu.toFixed(1)} cpu-time`,
);
console.log(
  `  ratio b/a: ${(w.wall / c.wall).toFixed(0)}x wall, ${(w.cpu / c.cpu).toFixed(0)}x cpu-time (target >= 30x)`,
);

if (process.argv.includes('--profile')) {
  // CPU ms per top-level kernel call (kernels that call other kernels count once) over 2 steps.
  const totals = new Map();
  let depth = 0;
  const restore = [];
  for (const config of tf.getKernelsForBackend('wasm')) {
    const f = config.kernelFunc;
    restore.push([config, f]);
    config.kernelFunc = (args) => {
      if (depth > 0) return f(args);
      depth++;
      const c0 = cpuMs();
      try {
        return f(args);
      } finally {
        depth--;
        totals.set(config.kernelName, (totals.get(config.kernelName) ?? 0) + cpuMs() - c0);
      }
    };
  }
  const c0 = cpuMs();
  await wasm.step(false);
  await wasm.step(false);
  const step = (cpuMs() - c0) / 2;
  for (const [config, f] of restore) config.kernelFunc = f;
  const rows = [...totals].sort((a, b) => b[1] - a[1]);
  const inKernels = rows.reduce((sum, [, ms]) => sum + ms, 0) / 2;
  console.log(
    `\nwasm step profile: ${step.toFixed(0)} CPU ms per step, ${inKernels.toFixed(0)} in kernels, the rest in tfjs (engine, tape, layers)`,
  );
  for (const [name, ms] of rows.slice(0, 10))
    console.log(`  ${name.padEnd(22)} ${(ms / 2).toFixed(1).padStart(7)} ms`);
}

// --- Conv backward cost per FLOP vs forward on wasm (same FLOPs per call, so time ratios) ---
// Every call gets freshly allocated operands, as in training: XNNPACK keeps packed weights per
// tensor, so reusing one filter (or one dy) across calls would hide the packing cost.
await tf.setBackend('wasm');
const reps = quick ? 3 : 5;

/** Median CPU ms of `run(kernel, inputs)` over fresh `make()` inputs, per kernel, interleaved. */
function timeKernels(make, calls) {
  const times = Object.fromEntries(Object.keys(calls).map((k) => [k, []]));
  for (let r = -1; r < reps; r++) {
    for (const [k, call] of Object.entries(calls)) {
      const inputs = make();
      const c0 = cpuMs();
      call(inputs).dispose(); // wasm kernels run synchronously
      if (r >= 0) times[k].push(cpuMs() - c0);
      tf.dispose(Object.values(inputs));
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

const layers = [
  [28, 28, 1, 32],
  [28, 28, 32, 32],
  [14, 14, 32, 64],
  [14, 14, 64, 64],
];
console.log(
  `\nconv cost on wasm, batch ${batch}, 3x3 'same' (median CPU ms of ${reps}; GFLOP/s; backward/forward per FLOP)`,
);
const totals = { fwd: 0, dx: 0, dw: 0 };
for (const [h, wd, ci, co] of layers) {
  const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
  const m = timeKernels(
    () => ({
      x: tf.randomNormal([batch, h, wd, ci]),
      filter: tf.randomNormal([3, 3, ci, co]),
      dy: tf.randomNormal([batch, h, wd, co]),
    }),
    {
      fwd: ({ x, filter }) =>
        tf.engine().runKernel('Conv2D', { x, filter }, { ...conv, dilations: 1 }),
      dx: ({ dy, filter, x }) =>
        tf
          .engine()
          .runKernel('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: x.shape }),
      dw: ({ x, dy, filter }) =>
        tf
          .engine()
          .runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: filter.shape }),
    },
  );
  const flops = 2 * batch * h * wd * 9 * ci * co;
  for (const k of ['fwd', 'dx', 'dw']) totals[k] += m[k];
  const gf = (ms) => (flops / ms / 1e6).toFixed(1);
  console.log(
    `  ${h}x${wd}x${ci}->${co}: forward ${m.fwd.toFixed(1)} ms (${gf(m.fwd)}) | dx ${m.dx.toFixed(1)} ms (${gf(m.dx)}) ${(m.dx / m.fwd).toFixed(2)}x | dW ${m.dw.toFixed(1)} ms (${gf(m.dw)}) ${(m.dw / m.fwd).toFixed(2)}x`,
  );
}
console.log(
  `  all four layers: dx ${(totals.dx / totals.fwd).toFixed(2)}x, dW ${(totals.dw / totals.fwd).toFixed(2)}x forward cost per FLOP (target <= 2x)`,
);
{
  // Depthwise 3x3 (multiplier 1) on [128,28,28,32]: memory-bound, for scale.
  const conv = { strides: 1, pad: 'same', dilations: 1 };
  const m = timeKernels(
    () => ({
      x: tf.randomNormal([batch, 28, 28, 32]),
      filter: tf.randomNormal([3, 3, 32, 1]),
      dy: tf.randomNormal([batch, 28, 28, 32]),
    }),
    {
      fwd: ({ x, filter }) => tf.engine().runKernel('DepthwiseConv2dNative', { x, filter }, conv),
      dx: ({ dy, filter, x }) =>
        tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropInput',
            { dy, filter },
            { ...conv, inputShape: x.shape },
          ),
      dw: ({ x, dy, filter }) =>
        tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x, dy },
            { ...conv, filterShape: filter.shape },
          ),
    },
  );
  console.log(
    `  depthwise 28x28x32 (x1): forward ${m.fwd.toFixed(1)} ms | dx ${m.dx.toFixed(1)} ms ${(m.dx / m.fwd).toFixed(2)}x | dW ${m.dw.toFixed(1)} ms ${(m.dw / m.fwd).toFixed(2)}x`,
  );
}

// --- Stock wasm kernels vs this package's, on the shapes of the reference CNN's backward pass ---
if (!quick) {
  const backend = tf.backend();
  const cases = [
    [
      'Conv2DBackpropInput',
      () => ({ dy: tf.randomNormal([batch, 14, 14, 64]), filter: tf.randomNormal([3, 3, 32, 64]) }),
      { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [batch, 14, 14, 32] },
      '14x14x64->32, 3x3',
    ],
    [
      'Tile',
      () => ({ x: tf.randomNormal([1, 1, 1, 32]) }),
      { reps: [batch, 28, 28, 1] },
      '[1,1,1,32] to [128,28,28,32] (batch-norm gradient)',
    ],
    [
      'MaxPoolGrad',
      () => {
        const input = tf.randomNormal([batch, 28, 28, 32]);
        const output = tf.maxPool(input, 2, 2, 'valid');
        return { dy: tf.randomNormal(output.shape), input, output };
      },
      { filterSize: 2, strides: 2, pad: 'valid' },
      '2x2 of [128,28,28,32]',
    ],
    [
      'Sum',
      () => ({ x: tf.randomNormal([batch, 28, 28, 32]) }),
      { axis: [0, 1, 2], keepDims: false },
      '[128,28,28,32] over batch, rows, cols',
    ],
    [
      'Mean',
      () => ({ x: tf.randomNormal([batch, 28, 28, 32]) }),
      { axis: [0, 1, 2], keepDims: false },
      'same',
    ],
    [
      'FusedBatchNorm',
      () => ({
        x: tf.randomNormal([batch, 28, 28, 32]),
        mean: tf.randomNormal([32]),
        variance: tf.randomUniform([32], 0.5, 2),
        offset: tf.randomNormal([32]),
        scale: tf.randomNormal([32]),
      }),
      { varianceEpsilon: 1e-3 },
      '[128,28,28,32]',
    ],
    [
      'Identity',
      () => ({ x: tf.randomNormal([batch, 28, 28, 32]) }),
      {},
      '[128,28,28,32] (engine clones of gradients)',
    ],
    [
      'BatchMatMul',
      () => ({ a: tf.randomNormal([batch, 3136]), b: tf.randomNormal([batch, 10]) }),
      { transposeA: true, transposeB: false },
      'aT·b, [3136x128]·[128x10] (dense gradient)',
    ],
  ];
  console.log(
    `\nstock wasm kernel vs @onerun/backend's (median CPU ms of 3, fresh operands per call)`,
  );
  for (const [name, make, attrs, what] of cases) {
    const ours = tf.getKernel(name, 'wasm');
    const run = (config) => {
      const inputs = make();
      const c0 = cpuMs();
      const out = config.kernelFunc({ inputs, backend, attrs });
      const ms = cpuMs() - c0;
      for (const o of Array.isArray(out) ? out : [out]) backend.disposeData(o.dataId);
      tf.dispose(Object.values(inputs));
      return ms;
    };
    const n = name === 'Conv2DBackpropInput' ? 1 : 3;
    const t = { stock: [], ours: [] };
    run(stock[name]);
    run(ours);
    for (let r = 0; r < n; r++) {
      t.stock.push(run(stock[name]));
      t.ours.push(run(ours));
    }
    const [ms0, ms1] = [median(t.stock), median(t.ours)];
    const gain = ms1 < 0.05 ? 'no copy' : `${(ms0 / ms1).toFixed(0)}x`;
    console.log(
      `  ${name.padEnd(20)} ${ms0.toFixed(1).padStart(8)} -> ${ms1.toFixed(1).padStart(6)} ms (${gain})  ${what}`,
    );
  }
}
