// Builds a validation copy of Fashion-MNIST for choosing hyperparameters without the test set:
// its "train" files are the first 50 000 official training examples and its "t10k" files the
// last 10 000 official training examples. Point `onerun --data-dir` at the output folder and every
// metric the app calls "test" is a validation metric. The official test files are never read.
//   node docs/v1/make-val-split.mjs [sourceDir] [outDir]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const out = process.argv[3] ?? 'tmp/fmnist-val';
const VAL = 10000;

function read(name) {
  const raw = readFileSync(join(src, `${name}.gz`));
  return gunzipSync(raw);
}

/** Copies items [from, to) of an IDX file (header: magic, dims as big-endian uint32). */
function slice(bytes, from, to) {
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let per = 1;
  for (let d = 1; d < dims; d++) per *= view.getUint32(4 + 4 * d);
  const outBytes = new Uint8Array(header + (to - from) * per);
  outBytes.set(bytes.subarray(0, header));
  new DataView(outBytes.buffer).setUint32(4, to - from);
  outBytes.set(bytes.subarray(header + from * per, header + to * per), header);
  return outBytes;
}

mkdirSync(out, { recursive: true });
const images = read('train-images-idx3-ubyte');
const labels = read('train-labels-idx1-ubyte');
const n = new DataView(images.buffer, images.byteOffset).getUint32(4);
writeFileSync(join(out, 'train-images-idx3-ubyte'), slice(images, 0, n - VAL));
writeFileSync(join(out, 'train-labels-idx1-ubyte'), slice(labels, 0, n - VAL));
writeFileSync(join(out, 't10k-images-idx3-ubyte'), slice(images, n - VAL, n));
writeFileSync(join(out, 't10k-labels-idx1-ubyte'), slice(labels, n - VAL, n));
console.log(
  `${out}: ${n - VAL} train, ${VAL} validation (official training examples ${n - VAL}…${n - 1})`,
);
