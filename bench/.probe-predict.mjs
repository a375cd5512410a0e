import { fileURLToPath } from 'node:url';
import { referenceMlp } from './reference-models.mjs';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const { selectBackend } = await import('@onerun/backend');
const tf = await import('@tensorflow/tfjs');
tf.env().set('PROD', true);
const resolveFrom = fileURLToPath(new URL('../apps/trainer/', import.meta.url));
await selectBackend(process.argv[2] ?? 'tensorflow', { resolveFrom });
const m = referenceMlp(tf);
m.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([128, 784]);
for (let i = 0; i < 3; i++) {
  const p = m.predict(x);
  await p.data();
  p.dispose();
}
const prof = await tf.profile(async () => {
  const p = m.predict(x);
  await p.data();
  p.dispose();
});
const counts = {};
for (const k of prof.kernels) counts[k.name] = (counts[k.name] ?? 0) + 1;
console.log(tf.getBackend(), 'kernels', prof.kernels.length, counts);
const prof2 = await tf.profile(async () => {
  const p = m.execute(x, m.outputs[0].name);
  p.dispose();
});
const c2 = {};
for (const k of prof2.kernels) c2[k.name] = (c2[k.name] ?? 0) + 1;
console.log('execute', prof2.kernels.length, c2);
const prof3 = await tf.profile(async () => {
  const p = tf.tidy(() => m.apply(x, { training: false }));
  p.dispose();
});
const c3 = {};
for (const k of prof3.kernels) c3[k.name] = (c3[k.name] ?? 0) + 1;
console.log('apply', prof3.kernels.length, c3);
const time = async (f, n) => {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[n >> 1];
};
for (let r = 0; r < 3; r++) {
  console.log(
    'predict ms',
    (
      await time(async () => {
        const p = m.predict(x);
        await p.data();
        p.dispose();
      }, 30)
    ).toFixed(2),
    'apply ms',
    (
      await time(async () => {
        const p = tf.tidy(() => m.apply(x, { training: false }));
        await p.data();
        p.dispose();
      }, 30)
    ).toFixed(2),
  );
}
