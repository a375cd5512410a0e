import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { requireInRange, requireInteger, seededRandom } from '@onerun/core';
import { UsageError } from '../errors.js';
import { checkIdxFiles } from './checks.js';
import { contentHash } from './content-hash.js';
import { type IdxArray, parseIdx, readIdxBytes } from './idx.js';
import { type DataLocation, type IdxDataName, locateData } from './locate.js';
import { type DataFormat, readDataPath } from './path-data.js';
import {
  columnStats,
  imagePreprocessing,
  PREPROCESSING_FORMAT,
  type Preprocessing,
  type RawValues,
} from './preprocessing.js';
import { Split } from './split.js';

/** Data sets the app knows by name. `synthetic` is a seeded toy set for smoke runs and tests. */
export const DATA_NAMES = ['fashion-mnist', 'mnist', 'synthetic'] as const;
/** One of `DATA_NAMES`. */
export type DataName = (typeof DATA_NAMES)[number];

/** Fashion-MNIST's ten class names, in label order. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export { Split };

/** A loaded data set: its splits, class names and how raw examples become model inputs. */
export interface LoadedData {
  /** A `DATA_NAMES` name, or the format read from a path: `images`, `csv`, `numpy`. */
  name: DataName | DataFormat;
  /** Where the examples came from: a folder, a file, or `synthetic(seed=…)`. */
  source: string;
  origin: DataLocation['origin'] | 'synthetic' | 'path';
  /**
   * SHA-256 of the examples' source (the data files' bytes; the generated arrays of the synthetic
   * set; the decoded examples and labels of `--data PATH`), as `sha256:<hex>`: a resume refuses
   * data whose hash differs from the recorded one.
   */
  contentHash: string;
  /** Shape of one example as the model takes it (`[h, w, c]` images, `[f]` features). */
  inputShape: number[];
  classes: number;
  /** Class names, index i naming class i (`classes.json` in a run folder). */
  classNames: string[];
  /** How raw examples become model inputs (`preprocessing.json` in a run folder). */
  preprocessing: Preprocessing;
  train: Split;
  /** Held out from the end of the official training split when `valSplit > 0`. */
  val?: Split;
  test: Split;
  /** Kept for callers that free what they load: splits hold no tensors, so there is nothing to free. */
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
  /** A `DATA_NAMES` name, or a path (image folder, CSV, `.npz`, `.npy`). */
  data: string;
  /** `--data PATH` images: resize every image to `[h, w]`. */
  imageSize?: [number, number];
  /** `--data PATH` without a test part: the fraction of each class held out (default 0.2). */
  testSplit?: number;
  /** CSV: the label column's name or 1-based number (default: the last). */
  labelColumn?: string;
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

/** Whether `value` is one of the data sets the app knows by name. */
export function isDataName(value: string): value is DataName {
  return (DATA_NAMES as readonly string[]).includes(value);
}

/**
 * Checks `--data`: a `DATA_NAMES` name, or a path to a file or folder that exists (made
 * absolute: a run folder outlives the working directory it was made from).
 */
export function parseDataName(value: string): string {
  if (isDataName(value)) return value;
  const path = resolve(value);
  if (existsSync(path)) return path;
  throw new UsageError(
    `--data '${value}' is neither a data set (${DATA_NAMES.join(', ')}) nor an existing file or folder (${path}); give a name, an image folder, a .csv, .npz or .npy file.`,
  );
}

/** One split per range of `raw`'s examples (views: no copy). */
function makeSplits(
  raw: RawValues,
  labels: Int32Array,
  shape: number[],
  classes: number,
  preprocessing: Preprocessing,
  ranges: { start: number; end: number }[],
): Split[] {
  const whole = new Split(raw, labels, shape, classes, preprocessing);
  return ranges.map(({ start, end }) => whole.slice(start, end));
}

function toLabels(bytes: Uint8Array, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes[i]!;
  return out;
}

function range(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
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
  const shape = [rows, cols, 1];
  const per = rows * cols;
  const prep = imagePreprocessing(shape, null);
  const trainN = limitOf('trainLimit', options.trainLimit, trI.dims[0]!);
  const testN = limitOf('testLimit', options.testLimit, teI.dims[0]!);
  const nVal = valCount(trainN, options.valSplit);
  // The pixels stay the bytes the files hold; model inputs are made per batch.
  const [train, val] = makeSplits(
    trI.data.subarray(0, trainN * per),
    toLabels(trL.data, trainN),
    shape,
    classes,
    prep,
    [
      { start: 0, end: trainN - nVal },
      { start: trainN - nVal, end: trainN },
    ],
  );
  const [test] = makeSplits(
    teI.data.subarray(0, testN * per),
    toLabels(teL.data, testN),
    shape,
    classes,
    prep,
    [{ start: 0, end: testN }],
  );
  const classNames =
    name === 'fashion-mnist'
      ? [...FASHION_MNIST_CLASSES]
      : Array.from({ length: classes }, (_, i) => String(i));
  return finish(
    { name, source: location.dir, origin: location.origin, contentHash: contentHash(bytes) },
    classNames,
    prep,
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
  classNames: string[],
  preprocessing: Preprocessing,
  train: Split,
  validation: Split,
  test: Split,
): LoadedData {
  const val = validation.size > 0 ? validation : undefined;
  return {
    name,
    source,
    origin,
    contentHash,
    inputShape: [...preprocessing.inputShape],
    classes: classNames.length,
    classNames,
    preprocessing,
    train,
    ...(val ? { val } : {}),
    test,
    dispose: () => {},
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
  const shape = [size, size, 1];
  // Pixels are already in [0, 1]: the model takes them as they are.
  const prep = imagePreprocessing(shape, null, 'float32');
  const nVal = valCount(trainAll, options.valSplit);
  const tr = make(trainAll);
  const te = make(testN);
  const [train, val] = makeSplits(tr.pixels, tr.labels, shape, classes, prep, [
    { start: 0, end: trainAll - nVal },
    { start: trainAll - nVal, end: trainAll },
  ]);
  const [test] = makeSplits(te.pixels, te.labels, shape, classes, prep, [{ start: 0, end: testN }]);
  const classNames = Array.from({ length: classes }, (_, i) => `class-${i}`);
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
    classNames,
    prep,
    train!,
    val!,
    test!,
  );
}

/**
 * A data set read from a path (`--data PATH`): an image folder, CSV, `.npz` or `.npy` pair,
 * limited and split as the IDX sets are. Byte images keep the pixel scaling of the IDX sets
 * (raw / 255); float inputs are standardised per feature (last axis) with the mean and standard
 * deviation of the training split.
 */
async function loadPathData(path: string, options: LoadDataOptions): Promise<LoadedData> {
  const read = await readDataPath(path, {
    ...(options.imageSize ? { imageSize: options.imageSize } : {}),
    ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}),
    testSplit: requireInRange('testSplit', options.testSplit ?? 0.2, 0.01, 0.9),
  });
  const { train: trainSet, test: testSet, classes: classNames } = read.data;
  const shape = trainSet.shape;
  const per = shape.reduce((a, b) => a * b, 1);
  const trainN = limitOf('trainLimit', options.trainLimit, trainSet.labels.length);
  const testN = limitOf('testLimit', options.testLimit, testSet.labels.length);
  const nVal = valCount(trainN, options.valSplit);
  const width = shape[shape.length - 1]!;
  const prep: Preprocessing =
    trainSet.raw instanceof Uint8Array
      ? { ...imagePreprocessing(shape, read.data.imageSize), kind: read.data.kind }
      : {
          format: PREPROCESSING_FORMAT,
          kind: read.data.kind,
          inputShape: [...shape],
          rawDtype: 'float32',
          // Statistics of the training split only (validation and test excluded).
          ...columnStats(trainSet.raw, width, range((trainN - nVal) * (per / width))),
          imageSize: null,
        };
  const classes = classNames.length;
  const [train, val] = makeSplits(
    trainSet.raw.subarray(0, trainN * per),
    trainSet.labels.subarray(0, trainN),
    shape,
    classes,
    prep,
    [
      { start: 0, end: trainN - nVal },
      { start: trainN - nVal, end: trainN },
    ],
  );
  const [test] = makeSplits(
    testSet.raw.subarray(0, testN * per),
    testSet.labels.subarray(0, testN),
    shape,
    classes,
    prep,
    [{ start: 0, end: testN }],
  );
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  // The examples as read (all of them, before the limits), their labels and the class names.
  const hash = contentHash([
    bytesOf(trainSet.raw),
    bytesOf(trainSet.labels),
    bytesOf(testSet.raw),
    bytesOf(testSet.labels),
    new TextEncoder().encode(JSON.stringify(classNames)),
  ]);
  return finish(
    { name: read.format, source: read.data.source, origin: 'path', contentHash: hash },
    classNames,
    prep,
    train!,
    val!,
    test!,
  );
}

/**
 * Loads a data set with its train/test split (and an optional validation split taken from the
 * end of the training split): a named set (`fashion-mnist`, `mnist`: IDX files; `synthetic`) or
 * a path. Examples stay as stored (bytes for images); splits make float32 inputs per batch.
 */
export async function loadData(options: LoadDataOptions): Promise<LoadedData> {
  if (options.data === 'synthetic') return loadSynthetic(options);
  if (options.data === 'fashion-mnist' || options.data === 'mnist')
    return loadIdxData(options.data, options);
  return loadPathData(options.data, options);
}
