// An ensemble at the cost of one model: 5 reference-MLP members (784-512-BN-ReLU-256-BN-ReLU-10,
// bench/reference-models.mjs) predict 10,000 images at batch 128 with Ensemble.predict — members
// stacked into one model (default) and one by one (`stack: false`, the path before stacking) — vs
// one member's model.predict over the same images at the same batch size. Speed ratio = one
// member's time / the ensemble's time (1.0 = the ensemble costs one model; 0.2 = five models).
// Native TensorFlow (if `pnpm native` built it) and wasm, in turns (one of each subject per turn,
// order rotating), median per subject.
//   node bench/ensemble-stacked.bench.mjs [--turns=7] [--members=5] [--n=10000] [--batch=128]
import { fileURLToPath } from 'node:url';
import { referenceMlp } from './reference-models.mjs';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const TURNS = Number(arg('turns', 7));
const M = Number(arg('members', 5));
const N = Number(arg('n', 10_000));
const BATCH = Number(arg('batch', 128));

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const { selectBackend } = await import('@onerun/backend');
const { Ensemble } = await import('@onerun/ensemble');
const tf = await import('@tensorflow/tfjs');
tf.env().set('PROD', true);
const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));

const backends = [];
const native = await selectBackend('tensorflow', { resolveFrom }).catch((e) => e);
if (native instanceof Error) console.log(`native: not measured — ${native.message}`);
else backends.push('tensorflow');
await selectBackend('wasm');
backends.push('wasm');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Subjects of one backend, with their data, created while it is active. */
async function subjectsOn(backend) {
  await tf.setBackend(backend);
  const x = tf.randomNormal([N, 784], 0, 1, 'float32', 1);
  const members = Array.from({ length: M }, () => {
    const m = referenceMlp(tf);
    // Non-trivial moving statistics, as trained members have.
    for (const layer of m.layers) {
      const w = layer.getWeights();
      if (w.length === 4) {
        const [g, b, mean, v] = w;
        const newMean = tf.randomNormal(mean.shape, 0, 0.2);
        const newVar = tf.randomUniform(v.shape, 0.5, 2);
        layer.setWeights([g, b, newMean, newVar]);
        tf.dispose([newMean, newVar]);
      }
    }
    return m;
  });
  const stacked = new Ensemble(members);
  const oneByOne = new Ensemble(members, { stack: false });
  const read = async (t) => {
    await t.data();
    t.dispose();
  };
  return {
    x,
    members,
    run: {
      one: () => read(members[0].predict(x, { batchSize: BATCH })),
      stacked: async () => read(await stacked.predict(x, { batchSize: BATCH })),
      oneByOne: async () => read(await oneByOne.predict(x, { batchSize: BATCH })),
    },
  };
}

console.log(
  `${M} reference-MLP members vs one, ${N} images, batch ${BATCH}, ${TURNS} turns; ` +
    `${tf.version.tfjs}, load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
);
for (const backend of backends) {
  const s = await subjectsOn(backend);
  const names = Object.keys(s.run);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await s.run[n](); // warm-up
  for (let turn = 0; turn < TURNS; turn++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(turn + j) % names.length];
      const t0 = performance.now();
      await s.run[name]();
      times[name].push(performance.now() - t0);
    }
  }
  const one = median(times.one);
  const fmt = (name) => {
    const t = median(times[name]);
    return `${t.toFixed(0)} ms (speed ${(one / t).toFixed(2)}× one member)`;
  };
  console.log(
    `${backend.padEnd(10)} one member ${one.toFixed(0)} ms | ${M} members stacked ${fmt('stacked')} | ` +
      `one by one ${fmt('oneByOne')} | stacked vs one by one ${(median(times.oneByOne) / median(times.stacked)).toFixed(2)}×`,
  );
  tf.dispose(s.x);
  for (const m of s.members) m.dispose();
}
