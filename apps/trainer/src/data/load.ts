import { requireInRange, requireInteger, seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';
import { checkIdxFiles } from './checks.js';
import { contentHash } from './content-hash.js';
import { type IdxArray, parseIdx, readIdxBytes } from './idx.js';
import { type DataLocation, type IdxDataName, locateData } from './locate.js';

/** Data sets the app knows. `synthetic` is a seeded toy set for smoke runs and tests. */
export const DATA_NAMES = ['fashion-mnist', 'mnist', 'synthetic'] as const;
/** One of `DATA_NAMES`. */
export type DataName = (typeof DATA_NAMES)[number];

/** One split: images `[n, h, w, c]` in [0, 1], one-hot targets, and the labels on the CPU. */
export interface Split {
  xs: tf.Tensor4D;
  ys: tf.Tensor2D;
  labels: Int32Array;
  size: number;
}

/** A loaded data set. `dispose()` frees every tensor it holds. */
export interface LoadedData {
  name: DataName;
  /** Where the examples came from: a folder, or `synthetic(seed=…)`. */
  source: string;
  origin: DataLocation['origin'] | 'synthetic';
  /**
   * SHA-256 of the examples' source (the data files' bytes; the generated arrays of the synthetic
   * set), as `sha256:<hex>`: a resume refuses data whose hash differs from the recorded one.
   */
  contentHash: string;
  inputShape: [number, number, number];
  classes: number;
  train: Split;
  /** Held out from the end of the official training split when `valSplit > 0`. */
  val?: Split;
  test: Split;
  dispose(): void;
}

/** Shape of the synthetic set. */
export interface SyntheticOptions {
  train?: number;
  test?: number;
  /** Side of the square images. */
  size?: number;
  classes?: number;
  /** Standard deviation of the pixel noise around each class's prototype (default 0.25). */
  noise?: number;
  /** Prototype pixels are uniform in 0.5 ± spread (default 0.2): smaller is harder. */
  spread?: number;
  /** Seed of the set (default: `LoadDataOptions.seed`, else 0). */
  seed?: number;
}

/** Options of `loadData`. */
export interface LoadDataOptions {
  data: DataName;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Fraction of the training split held out for validation (from its end), in [0, 0.5]. */
  valSplit?: number;
  /** Use only the first `trainLimit` training examples (before the validation split). */
  trainLimit?: number;
  /** Use only the first `testLimit` test examples. */
  testLimit?: number;
  /** Seed of the synthetic set. */
  seed?: number;
  synthetic?: SyntheticOptions;
}

/** Checks a data-set name from the command line. */
export function parseDataName(value: string): DataName {
  if ((DATA_NAMES as readonly string[]).includes(value)) return value as DataName;
  throw new UsageError(
    `Unknown data set '${value}'; use --data with one of ${DATA_NAMES.join(', ')}.`,
  );
}

function oneHot(labels: Int32Array, classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat() as tf.Tensor2D);
}

/**
 * Builds the splits from one Float32 image buffer. Each split's tensor is made from a subarray
 * of it, so no second host copy of the pixels is kept.
 */
function makeSplits(
  pixels: Float32Array,
  labels: Int32Array,
  shape: [number, number, number],
  classes: number,
  ranges: { start: number; end: number }[],
): Split[] {
  const per = shape[0] * shape[1] * shape[2];
  return ranges.map(({ start, end }) => {
    const size = end - start;
    const xs = tf.tensor4d(pixels.subarray(start * per, end * per), [size, ...shape]);
    const lab = labels.subarray(start, end);
    return { xs, ys: oneHot(lab, classes), labels: lab, size };
  });
}

function toFloat(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const scale = 1 / 255;
  for (let i = 0; i < count; i++) out[i] = bytes[i]! * scale;
  return out;
}

function toLabels(bytes: Uint8Array, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes[i]!;
  return out;
}

function limitOf(name: string, value: number | undefined, n: number): number {
  return value === undefined ? n : Math.min(n, requireInteger(name, value, 1));
}

function valCount(trainN: number, valSplit: number | undefined): number {
  const fraction = requireInRange('valSplit', valSplit ?? 0, 0, 0.5);
  return Math.floor(trainN * fraction);
}

async function loadIdxData(name: IdxDataName, options: LoadDataOptions): Promise<LoadedData> {
  const location = locateData(name, options);
  const f = location.files;
  const paths = [f.trainImages, f.trainLabels, f.testImages, f.testLabels];
  const bytes = await Promise.all(paths.map((path) => readIdxBytes(path)));
  const [trI, trL, teI, teL] = bytes.map((b, i) => parseIdx(b, paths[i])) as [
    IdxArray,
    IdxArray,
    IdxArray,
    IdxArray,
  ];
  const classes = 10;
  checkIdxFiles(
    {
      trainImages: { path: f.trainImages, idx: trI },
      trainLabels: { path: f.trainLabels, idx: trL },
      testImages: { path: f.testImages, idx: teI },
      testLabels: { path: f.testLabels, idx: teL },
    },
    classes,
  );
  const rows = trI.dims[1]!;
  const cols = trI.dims[2]!;
  const shape: [number, number, number] = [rows, cols, 1];
  const per = rows * cols;
  const trainN = limitOf('trainLimit', options.trainLimit, trI.dims[0]!);
  const testN = limitOf('testLimit', options.testLimit, teI.dims[0]!);
  const nVal = valCount(trainN, options.valSplit);
  const trainLabels = toLabels(trL.data, trainN);
  const testLabels = toLabels(teL.data, testN);
  const [train, val] = makeSplits(toFloat(trI.data, trainN * per), trainLabels, shape, classes, [
    { start: 0, end: trainN - nVal },
    { start: trainN - nVal, end: trainN },
  ]);
  const [test] = makeSplits(toFloat(teI.data, testN * per), testLabels, shape, classes, [
    { start: 0, end: testN },
  ]);
  return finish(
    { name, source: location.dir, origin: location.origin, contentHash: contentHash(bytes) },
    shape,
    classes,
    train!,
    val!,
    test!,
  );
}

function finish(
  {
    name,
    source,
    origin,
    contentHash,
  }: Pick<LoadedData, 'name' | 'source' | 'origin' | 'contentHash'>,
  inputShape: [number, number, number],
  classes: number,
  train: Split,
  validation: Split,
  test: Split,
): LoadedData {
  // A validation split of no examples (no --val-split) is freed, not handed out.
  const val = validation.size > 0 ? validation : undefined;
  if (!val) tf.dispose([validation.xs, validation.ys]);
  return {
    name,
    source,
    origin,
    contentHash,
    inputShape,
    classes,
    train,
    ...(val ? { val } : {}),
    test,
    dispose: () => {
      for (const s of [train, val, test]) if (s) tf.dispose([s.xs, s.ys]);
    },
  };
}

/**
 * A seeded toy set: each class is a random prototype image, each example its class's prototype
 * plus Gaussian noise, clipped to [0, 1]. The classes overlap (about 85–90% is reachable), so
 * ensembles and calibration have something to show; both models learn it in a few epochs.
 */
function loadSynthetic(options: LoadDataOptions): LoadedData {
  const s = options.synthetic ?? {};
  const seed = s.seed ?? options.seed ?? 0;
  const size = requireInteger('synthetic.size', s.size ?? 8, 4);
  const classes = requireInteger('synthetic.classes', s.classes ?? 4, 2);
  const trainAll = limitOf(
    'trainLimit',
    options.trainLimit,
    requireInteger('synthetic.train', s.train ?? 512, 2),
  );
  const testN = limitOf(
    'testLimit',
    options.testLimit,
    requireInteger('synthetic.test', s.test ?? 128, 1),
  );
  const noise = s.noise ?? 0.25;
  const spread = s.spread ?? 0.2;
  const random = seededRandom(seed);
  const per = size * size;
  const prototypes = Float32Array.from(
    { length: classes * per },
    () => 0.5 + spread * (2 * random() - 1),
  );
  const gauss = () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const make = (n: number) => {
    const pixels = new Float32Array(n * per);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(random() * classes);
      labels[i] = c;
      for (let p = 0; p < per; p++) {
        const v = prototypes[c * per + p]! + noise * gauss();
        pixels[i * per + p] = Math.min(Math.max(v, 0), 1);
      }
    }
    return { pixels, labels };
  };
  const shape: [number, number, number] = [size, size, 1];
  const nVal = valCount(trainAll, options.valSplit);
  const tr = make(trainAll);
  const te = make(testN);
  const [train, val] = makeSplits(tr.pixels, tr.labels, shape, classes, [
    { start: 0, end: trainAll - nVal },
    { start: trainAll - nVal, end: trainAll },
  ]);
  const [test] = makeSplits(te.pixels, te.labels, shape, classes, [{ start: 0, end: testN }]);
  const hash = contentHash([
    new Uint8Array(tr.pixels.buffer),
    new Uint8Array(tr.labels.buffer),
    new Uint8Array(te.pixels.buffer),
    new Uint8Array(te.labels.buffer),
  ]);
  return finish(
    {
      name: 'synthetic',
      source: `synthetic(seed=${seed})`,
      origin: 'synthetic',
      contentHash: hash,
    },
    shape,
    classes,
    train!,
    val!,
    test!,
  );
}

/**
 * Loads a data set with its official train/test split (and an optional validation split taken
 * from the end of the training split). Pixels are scaled to [0, 1] into one Float32 buffer per
 * split file; the tensors are views of it.
 */
export async function loadData(options: LoadDataOptions): Promise<LoadedData> {
  return options.data === 'synthetic' ? loadSynthetic(options) : loadIdxData(options.data, options);
}
