import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataFormatError } from '../errors.js';
import { featureMatrix, labelColumnOf, readCsv } from './csv.js';
import { readIdxFile } from './idx.js';
import { imageFiles, readImages } from './image-folder.js';
import { isImageFile } from './images.js';
import { type NpyArray, readNpy, readNpz } from './npy.js';
import { normaliseInto, type Preprocessing, type RawValues } from './preprocessing.js';
import { labelFileOf } from './tabular.js';

/** New examples read for prediction, as the data stores them (before the normalisation). */
export interface LoadedInputs {
  /** `count × prod(preprocessing.inputShape)` raw values: bytes for images, floats for features. */
  raw: RawValues;
  count: number;
  /** Shape of one example (the run's `preprocessing.inputShape`). */
  shape: number[];
  /** A name per example: the image's path relative to the folder, `line N` of a CSV, `x[i]`. */
  names: string[];
  /** Labels where the inputs carry them (class folder names, a CSV label column, `y`), else absent. */
  labels?: string[];
}

/** Options of `loadInputs`. */
export interface LoadInputsOptions {
  /** CSV: the label column (name or 1-based number) to leave out of the features, if there is one. */
  labelColumn?: string;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

async function imageInputs(
  path: string,
  isDir: boolean,
  prep: Preprocessing,
): Promise<LoadedInputs> {
  if (prep.kind !== 'image' || prep.inputShape.length !== 3) {
    throw new DataFormatError(
      path,
      `${path} holds images but the run was trained on ${prep.kind} of shape [${prep.inputShape.join(', ')}]; give inputs like the training data.`,
    );
  }
  const files = isDir ? await imageFiles(path) : [path];
  if (files.length === 0) {
    throw new DataFormatError(path, `${path} holds no PNG or JPEG images.`);
  }
  const [h, w, c] = prep.inputShape as [number, number, number];
  if (c !== 1 && c !== 3) {
    throw new DataFormatError(
      path,
      `the run takes images of ${c} channels; onerun reads grey (1) or RGB (3) images.`,
    );
  }
  const { pixels } = await readImages(files, prep.imageSize ?? undefined, {
    height: h,
    width: w,
    channels: c,
    what: 'the model takes images of',
    fix: 'resize it to the training size (or train with --image-size, which resizes inputs too)',
  });
  const names = isDir ? files.map((f) => relative(path, f)) : [path];
  // Images in class folders carry their class: the folder right under `path`.
  const labels = isDir ? names.map((n) => n.split(/[\\/]/)) : [];
  const labelled = labels.length > 0 && labels.every((parts) => parts.length >= 2);
  return {
    raw: pixels,
    count: files.length,
    shape: [h, w, c],
    names,
    ...(labelled ? { labels: labels.map((parts) => parts[0]!) } : {}),
  };
}

async function csvInputs(
  path: string,
  prep: Preprocessing,
  options: LoadInputsOptions,
): Promise<LoadedInputs> {
  const table = await readCsv(path);
  const width = prep.inputShape.reduce((a, b) => a * b, 1);
  let labelColumn: number | undefined;
  if (table.header.length === width + 1) labelColumn = labelColumnOf(table, options.labelColumn);
  else if (table.header.length !== width || options.labelColumn !== undefined) {
    throw new DataFormatError(
      path,
      `${path} has ${table.header.length} columns; the run takes ${width} features (and an optional label column${options.labelColumn !== undefined ? ` '${options.labelColumn}'` : ''}).`,
    );
  }
  const raw = featureMatrix(table, labelColumn);
  return {
    raw: prep.rawDtype === 'uint8' ? toBytes(raw, path) : raw,
    count: table.rows.length,
    shape: [...prep.inputShape],
    names: table.rows.map((r) => `line ${r.line}`),
    ...(labelColumn !== undefined
      ? { labels: table.rows.map((r) => r.cells[labelColumn]!.trim()) }
      : {}),
  };
}

function toBytes(values: ArrayLike<number>, what: string): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new DataFormatError(
        what,
        `${what}: value ${v} at index ${i} is not a byte; the run takes pixel values 0–255.`,
      );
    }
    out[i] = v;
  }
  return out;
}

function arrayInputs(
  x: NpyArray,
  y: NpyArray | undefined,
  what: string,
  prep: Preprocessing,
): LoadedInputs {
  const rest = x.shape.slice(1);
  const shape =
    rest.length === 2 && prep.inputShape.length === 3 && prep.inputShape[2] === 1
      ? [...rest, 1]
      : rest;
  if (x.shape.length < 2 || !sameShape(shape, prep.inputShape)) {
    throw new DataFormatError(
      what,
      `${what} has shape (${x.shape.join(', ')}); the run takes examples of shape [${prep.inputShape.join(', ')}] along the first axis.`,
    );
  }
  const count = x.shape[0]!;
  const raw =
    prep.rawDtype === 'uint8'
      ? x.data instanceof Uint8Array
        ? x.data
        : toBytes(x.data, what)
      : Float32Array.from(x.data);
  return {
    raw,
    count,
    shape: [...prep.inputShape],
    names: Array.from({ length: count }, (_, i) => `x[${i}]`),
    ...(y && y.data.length === count ? { labels: Array.from(y.data, (v) => String(v)) } : {}),
  };
}

/**
 * Reads new inputs for a trained run in any format `--data` takes, labels not required: a
 * single PNG/JPEG, a folder of images (in class folders or not; class folders become `labels`),
 * a CSV (with or without the label column), an `.npz` (`x`, or `x_test`; `y` optional), an
 * `.npy` of inputs, or an IDX image file (`…-idx3-ubyte[.gz]`). Images are resized as in training (`preprocessing.imageSize`) and converted
 * to its channel count; every example must have `preprocessing.inputShape`. Errors are
 * `DataFormatError`s naming the file.
 */
export async function loadInputs(
  path: string,
  preprocessing: Preprocessing,
  options: LoadInputsOptions = {},
): Promise<LoadedInputs> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (error) {
    throw new DataFormatError(path, `${path} cannot be read (${(error as Error).message}).`);
  }
  const lower = path.toLowerCase();
  if (isDir || isImageFile(lower)) return imageInputs(path, isDir, preprocessing);
  if (lower.endsWith('.csv')) return csvInputs(path, preprocessing, options);
  if (lower.endsWith('.npz')) {
    const arrays = await readNpz(path);
    const key = arrays.has('x') ? 'x' : arrays.has('x_test') ? 'x_test' : undefined;
    if (!key) {
      throw new DataFormatError(
        path,
        `${path} holds arrays ${[...arrays.keys()].join(', ') || '(none)'}; expected inputs in 'x' (or 'x_test').`,
      );
    }
    return arrayInputs(
      arrays.get(key)!,
      arrays.get(key.replace('x', 'y')),
      `${path}:${key}`,
      preprocessing,
    );
  }
  if (/(-ubyte|\.idx\d?)(\.gz)?$/.test(lower)) {
    // An IDX file of images (`[n, h, w]` or `[n, h, w, c]` bytes), as MNIST-style sets ship them.
    const idx = await readIdxFile(path);
    return arrayInputs(
      { shape: idx.dims, dtype: 'u1', data: idx.data },
      undefined,
      path,
      preprocessing,
    );
  }
  if (lower.endsWith('.npy')) {
    const yPath = labelFileOf(path);
    let y: NpyArray | undefined;
    if (yPath !== path) y = await readNpy(yPath).catch(() => undefined);
    return arrayInputs(await readNpy(path), y, path, preprocessing);
  }
  throw new DataFormatError(
    path,
    `${path} is not an input file onerun reads; expected a PNG/JPEG image, a folder of images, a .csv, .npz, .npy or IDX (…-ubyte) file.`,
  );
}

/**
 * Model inputs of `inputs` (examples `begin … begin + size − 1`, default all): float32
 * `(raw − mean) / std` exactly as training made them, shape `[size, ...inputShape]`.
 */
export function inputsTensor(
  inputs: Pick<LoadedInputs, 'raw' | 'count' | 'shape'>,
  preprocessing: Pick<Preprocessing, 'mean' | 'std'>,
  begin = 0,
  size = inputs.count - begin,
): tf.Tensor {
  const per = inputs.shape.reduce((a, b) => a * b, 1);
  const indices = Int32Array.from({ length: size }, (_, i) => begin + i);
  const values = normaliseInto(
    inputs.raw,
    per,
    indices,
    preprocessing,
    new Float32Array(size * per),
  );
  return tf.tensor(values, [size, ...inputs.shape]);
}
