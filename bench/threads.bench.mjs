// TensorFlow thread pools for the native backend (issue 18), and what parallelism wasm has in
// Node. Each setting trains the reference MLP and CNN (batch 128, SGD momentum, fused kernels on)
// in its own process (the pools are fixed when TensorFlow loads); settings alternate over
// --rounds rounds and the median examples/s of each is printed, with the ratio to the default.
//   node bench/threads.bench.mjs [--rounds=3] [--steps=20] [--cnn-steps=4]
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { referenceCnn, referenceMlp } from './reference-models.mjs';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

if (process.argv.includes('--child')) await child();
else await parent();

async function parent() {
  const cores = availableParallelism();
  const settings = [
    ['@onerun/backend default', {}],
    ["TensorFlow's own default (inter-op = cores)", { TF_NUM_INTEROP_THREADS: String(cores) }],
    ['intra-op 1, inter-op 1', { TF_NUM_INTRAOP_THREADS: '1' }],
  ];
  console.log(`${cores} cores, load average ${load()}`);
  const results = settings.map(() => ({ mlp: [], cnn: [], threads: '' }));
  const here = fileURLToPath(import.meta.url);
  for (let round = 0; round < Number(arg('rounds', '3')); round++) {
    settings.forEach(([, env], i) => {
      const r = spawnSync(process.execPath, [here, '--child', ...process.argv.slice(2)], {
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...env },
        encoding: 'utf8',
      });
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      if (!line.startsWith('{')) throw new Error(`child failed: ${r.stderr.slice(-500)}`);
      const out = JSON.parse(line);
      results[i].mlp.push(out.mlp);
      results[i].cnn.push(out.cnn);
      results[i].threads = out.threads;
      if (round === 0 && i === 0) console.log(out.wasm);
    });
  }
  const base = results[0];
  console.log('training examples/s, median of the rounds (ratio to the @onerun/backend default)');
  settings.forEach(([label], i) => {
    const r = results[i];
    const m = median(r.mlp);
    const c = median(r.cnn);
    console.log(
      `  ${label.padEnd(44)} ${r.threads.padEnd(22)} MLP ${m.toFixed(0).padStart(6)} (${(m / median(base.mlp)).toFixed(2)}x)  CNN ${c.toFixed(0).padStart(5)} (${(c / median(base.cnn)).toFixed(2)}x)`,
    );
  });
  console.log(`load average now ${load()}`);
}

async function child() {
  const { selectBackend } = await import('@onerun/backend');
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  // What wasm offers for one run in Node: tfjs-backend-wasm's threaded build needs it.
  const wasm = await selectBackend('wasm');
  const wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
  const wasmLine =
    `wasm in Node: WASM_HAS_MULTITHREAD_SUPPORT=${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}, ` +
    `WASM_HAS_SIMD_SUPPORT=${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads in use ${wasmBackend.getThreadsCount()} (${wasm.backend})`;
  const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));
  const native = await selectBackend('tensorflow', { resolveFrom });
  const rate = async (build, shape, steps) => {
    const model = build(tf);
    model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([128, ...shape], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32', 2), 10).toFloat();
    for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await model.trainOnBatch(x, y);
      times.push(performance.now() - t0);
    }
    model.dispose();
    tf.dispose([x, y]);
    return 128000 / median(times);
  };
  const mlp = await rate(referenceMlp, [784], Number(arg('steps', '20')));
  const cnn = await rate(referenceCnn, [28, 28, 1], Number(arg('cnn-steps', '4')));
  const t = native.nativeThreads;
  console.log(
    JSON.stringify({ mlp, cnn, threads: `intra ${t.intraOp}, inter ${t.interOp}`, wasm: wasmLine }),
  );
}
