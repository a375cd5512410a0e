// Child process of fault.test.ts: saves snapshots in a loop until it is killed.
// argv: <file-store module path> <store dir> <first step>
// Every weight of the snapshot saved at step s holds the value s + 0.5, so a reader can tell a
// snapshot whose bytes do not belong to its manifest entry.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [storeModule, dir, firstStep] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const fromTfjs = createRequire(require.resolve('@tensorflow/tfjs'));
const tf = await import('@tensorflow/tfjs-core');
const tfl = await import('@tensorflow/tfjs-layers');
await import(pathToFileURL(fromTfjs.resolve('@tensorflow/tfjs-backend-cpu')).href);
await tf.setBackend('cpu');
const { FileSnapshotStore } = await import(pathToFileURL(storeModule).href);

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ inputShape: [64], units: 128 }),
    tfl.layers.dense({ units: 64 }),
    tfl.layers.dense({ units: 10 }),
  ],
});
const store = await FileSnapshotStore.open(dir, { retain: { last: 4 }, lockTimeoutMs: 10_000 });
process.stdout.write('ready\n');
for (let step = Number(firstStep); ; step++) {
  for (const v of model.weights) {
    const t = tf.fill(v.shape, step + 0.5);
    v.write(t);
    t.dispose();
  }
  await store.save(model, { step, tags: { pid: String(process.pid) } });
}
