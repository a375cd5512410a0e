// FileSnapshotStore vs raw fs of the same weight bytes, interleaved in one process: save and load
// a 25,005,000-parameter model (100 MB of float32 weights). Build first, then run:
//   npx --yes pnpm@10.34.9 --filter "@onerun/snapshots..." run build && node bench/snapshots.bench.mjs
// ROUNDS=n sets the number of rounds (default 7); VERBOSE=1 prints every sample.
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FileSnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
await tf.setBackend('cpu');

function denseModel() {
  return tf.sequential({
    layers: [tf.layers.dense({ inputShape: [5000], units: 5000, kernelInitializer: 'zeros' })],
  });
}
const model = denseModel();
const fill = tf.randomUniform([5000, 5000], -1, 1, 'float32', 1);
model.layers[0].getWeights()[0].assign(fill);
fill.dispose();
const target = denseModel();

const dir = await mkdtemp(join(tmpdir(), 'onerun-snapshots-bench-'));
// retain 'all': deleting older snapshots is retention work, not part of a save. The raw files
// are kept too, so both sides write into new files while the earlier ones stay on disk.
const store = await FileSnapshotStore.open(join(dir, 'store'));
const first = await store.save(model, { step: 0 });
const bytes = await readFile(join(await store.path(first.id), 'weights.bin'));
const mb = bytes.byteLength / 1e6;

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
async function writeSynced(path) {
  const handle = await open(path, 'wx');
  await handle.writeFile(bytes);
  await handle.sync();
  await handle.close();
}

const results = {
  'store.save': [],
  'raw writeFile, new file': [],
  'raw writeFile + fsync, new file': [],
  'raw writeFile, same file again': [],
  'store.load': [],
  'store.loadWeightsInto': [],
  'raw readFile': [],
  'CRC-32 (node:zlib), in memory': [],
  'SHA-256 (node:crypto), in memory': [],
};
let id = first.id;
for (let round = 0; round < ROUNDS; round++) {
  const fresh = join(dir, `raw-${round}.bin`);
  const synced = join(dir, `synced-${round}.bin`);
  const same = join(dir, 'same.bin');
  results['store.save'].push(
    await time(async () => {
      id = (await store.save(model, { step: round + 1 })).id;
    }),
  );
  results['raw writeFile, new file'].push(await time(() => writeFile(fresh, bytes)));
  results['raw writeFile + fsync, new file'].push(await time(() => writeSynced(synced)));
  results['raw writeFile, same file again'].push(await time(() => writeFile(same, bytes)));
  results['store.load'].push(
    await time(async () => {
      (await store.load(id)).dispose();
    }),
  );
  results['store.loadWeightsInto'].push(await time(() => store.loadWeightsInto(id, target)));
  results['raw readFile'].push(await time(() => readFile(fresh)));
  results['CRC-32 (node:zlib), in memory'].push(await time(async () => crc32(bytes)));
  results['SHA-256 (node:crypto), in memory'].push(
    await time(async () => createHash('sha256').update(bytes).digest()),
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, mb / median(xs)]));
if (process.env.VERBOSE) console.log(results);
console.log(
  `snapshots: ${model.countParams().toLocaleString('en-US')} parameters, ${mb.toFixed(1)} MB ` +
    `of weights; median of ${ROUNDS} interleaved rounds (tfjs ${tf.version.tfjs}, ` +
    `${tf.getBackend()} backend, Node ${process.version})`,
);
for (const [name, r] of Object.entries(rate)) {
  console.log(`  ${name.padEnd(34)} ${r.toFixed(0).padStart(6)} MB/s  ${(mb / r).toFixed(3)} s`);
}
const pct = (a, b) => `${((100 * rate[a]) / rate[b]).toFixed(0)}%`.padStart(5);
console.log('ratios (ours / raw):');
console.log(`  save / writeFile new file          ${pct('store.save', 'raw writeFile, new file')}`);
console.log(
  `  save / writeFile + fsync new file  ${pct('store.save', 'raw writeFile + fsync, new file')}`,
);
console.log(
  `  save / writeFile same file         ${pct('store.save', 'raw writeFile, same file again')}`,
);
console.log(`  load / readFile                    ${pct('store.load', 'raw readFile')}`);
console.log(`  loadWeightsInto / readFile         ${pct('store.loadWeightsInto', 'raw readFile')}`);

model.dispose();
target.dispose();
await rm(dir, { recursive: true, force: true });
