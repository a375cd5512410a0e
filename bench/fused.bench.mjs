// What each of @onerun/backend's fused training paths buys on the native backend (issue 18):
// the reference MLP and CNN (batch 128, SGD momentum 0.9, trainOnBatch) with every path on, with
// each one turned off in turn, and with all off (stock tfjs), interleaved step by step in one
// process (one model, the flags switched between steps, the order rotated every step).
//   node bench/fused.bench.mjs [--steps=30] [--cnn-steps=6] [--paths=dense,crossEntropy]
// Needs `pnpm native` (tfjs-node's addon) and a build.
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FUSED_TRAINING_PATHS, selectBackend, setFusedTraining } from '@onerun/backend';
import * as tf from '@tensorflow/tfjs';
import { referenceCnn, referenceMlp } from './reference-models.mjs';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
tf.env().set('PROD', true);
const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));
const chosen = await selectBackend('tensorflow', { resolveFrom });
console.log(
  `${availableParallelism()} cores, load average ${load()}; TF ${chosen.tensorflowVersion}, ` +
    `intra-op threads ${chosen.nativeThreads?.intraOp}, inter-op ${chosen.nativeThreads?.interOp}`,
);

const all = Object.fromEntries(FUSED_TRAINING_PATHS.map((p) => [p, true]));
// --paths=a,b: only those paths are turned off (one at a time, then together), so that small
// paths are not timed next to the far slower steps of the big ones off.
const paths = arg('paths', '') === '' ? [...FUSED_TRAINING_PATHS] : arg('paths', '').split(',');
for (const p of paths) {
  if (!FUSED_TRAINING_PATHS.includes(p)) {
    throw new Error(`--paths: unknown path '${p}'; expected ${FUSED_TRAINING_PATHS.join(', ')}`);
  }
}
const variants = [
  ['all fused', all],
  ...paths.map((p) => [`all but ${p}`, { ...all, [p]: false }]),
  paths.length === FUSED_TRAINING_PATHS.length
    ? ['stock tfjs', Object.fromEntries(FUSED_TRAINING_PATHS.map((p) => [p, false]))]
    : [
        `all but ${paths.join(', ')}`,
        { ...all, ...Object.fromEntries(paths.map((p) => [p, false])) },
      ],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const [kind, build, shape, steps] of [
  ['MLP', referenceMlp, [784], Number(arg('steps', '30'))],
  ['CNN', referenceCnn, [28, 28, 1], Number(arg('cnn-steps', '6'))],
]) {
  const x = tf.randomNormal([128, ...shape], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32', 2), 10).toFloat();
  // One model for all variants: only the flags differ between their steps (a step's cost does
  // not depend on the weights' values; one model per variant ran measurably apart on the CNN).
  const model = build(tf);
  model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
  const subjects = variants.map(([label, flags]) => ({
    label,
    flags,
    model,
    times: [],
    kernels: 0,
  }));
  for (const s of subjects) {
    setFusedTraining(s.flags);
    for (let i = 0; i < 2; i++) await s.model.trainOnBatch(x, y);
    s.kernels = (await tf.profile(() => s.model.trainOnBatch(x, y))).kernels.length;
  }
  for (let i = 0; i < steps; i++) {
    // The order rotates every step, so each variant follows each other one equally often (a step
    // right after the stock variant's ran slower in earlier forward/backward orders).
    const shift = i % subjects.length;
    for (const s of [...subjects.slice(shift), ...subjects.slice(0, shift)]) {
      setFusedTraining(s.flags);
      const t0 = performance.now();
      await s.model.trainOnBatch(x, y);
      s.times.push(performance.now() - t0);
    }
  }
  const base = median(subjects[0].times);
  console.log(`${kind} training, median of ${steps} interleaved steps`);
  const width = Math.max(...subjects.map((s) => s.label.length));
  for (const s of subjects) {
    const ms = median(s.times);
    console.log(
      `  ${s.label.padEnd(width)} ${ms.toFixed(1).padStart(7)} ms/step  ${(128000 / ms).toFixed(0).padStart(6)} ex/s  ` +
        `${(ms / base).toFixed(2)}x the all-fused time  ${String(s.kernels).padStart(4)} kernels/step`,
    );
  }
  model.dispose();
  tf.dispose([x, y]);
}
console.log(`load average now ${load()}`);
