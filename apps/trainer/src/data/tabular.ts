import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataFormatError } from '../errors.js';
import { type CsvTable, featureMatrix, labelColumnOf, readCsv } from './csv.js';
import {
  classIndex,
  indicesOf,
  type LabelledSet,
  type SourceData,
  shuffled,
  splitTrainTest,
} from './labelled.js';
import { type NpyArray, readNpy, readNpz } from './npy.js';

/** Options of the CSV and NumPy loaders. */
export interface TabularOptions {
  /** CSV: the label column's name or 1-based number (default: the last column). */
  labelColumn?: string;
  /** Fraction of each class held out as test when the data has no test part. */
  testSplit: number;
}

function csvPart(table: CsvTable, labelColumn: string | undefined) {
  const column = labelColumnOf(table, labelColumn);
  return {
    features: featureMatrix(table, column),
    labels: table.rows.map((r) => r.cells[column]!.trim()),
    width: table.header.length - 1,
    column,
  };
}

/**
 * Reads CSV data: one file (a test split is drawn from it) or a folder holding `train.csv` and
 * `test.csv` with the same columns. Feature columns must be numeric; labels may be any text.
 */
export async function loadCsv(
  path: string,
  options: TabularOptions,
  folder = false,
): Promise<SourceData> {
  const trainPath = folder ? join(path, 'train.csv') : path;
  const trainTable = await readCsv(trainPath);
  const train = csvPart(trainTable, options.labelColumn);
  if (train.width < 1) {
    throw new DataFormatError(
      trainPath,
      `${trainPath} has only a label column; expected feature columns too.`,
    );
  }
  const { classes, index } = classIndex(train.labels);
  const rowsOf = (
    file: string,
    part: { features: Float32Array; labels: string[]; width: number },
    lines: number[],
  ): LabelledSet => ({
    raw: part.features,
    shape: [part.width],
    labels: indicesOf(part.labels, index, file, (i) => `${file} line ${lines[i]}`),
  });
  const trainSet = rowsOf(
    trainPath,
    train,
    trainTable.rows.map((r) => r.line),
  );
  if (!folder) {
    return {
      kind: 'features',
      classes,
      ...splitTrainTest(trainSet, classes.length, options.testSplit),
      imageSize: null,
      source: `csv:${path} (test split ${options.testSplit})`,
    };
  }
  const testPath = join(path, 'test.csv');
  const testTable = await readCsv(testPath);
  const test = csvPart(testTable, options.labelColumn);
  if (test.width !== train.width) {
    throw new DataFormatError(
      testPath,
      `${testPath} has ${test.width} feature columns but ${trainPath} has ${train.width}; give both the same columns.`,
    );
  }
  return {
    kind: 'features',
    classes,
    train: shuffled(trainSet),
    test: rowsOf(
      testPath,
      test,
      testTable.rows.map((r) => r.line),
    ),
    imageSize: null,
    source: `csv:${path} (train.csv, test.csv)`,
  };
}

/** Label values of a NumPy label array (integers, one per example). */
function labelValues(y: NpyArray, what: string): string[] {
  if (y.shape.length !== 1 && !(y.shape.length === 2 && y.shape[1] === 1)) {
    throw new DataFormatError(
      what,
      `${what} has shape (${y.shape.join(', ')}); expected one integer class label per example, shape (n,).`,
    );
  }
  const out: string[] = new Array(y.data.length);
  for (let i = 0; i < y.data.length; i++) {
    const v = y.data[i]!;
    if (!Number.isInteger(v)) {
      throw new DataFormatError(what, `${what}[${i}] is ${v}; expected integer class labels.`);
    }
    out[i] = String(v);
  }
  return out;
}

/** Examples of a NumPy input array: bytes stay bytes (images), anything else becomes float32. */
function examplesOf(
  x: NpyArray,
  what: string,
): { raw: Uint8Array | Float32Array; shape: number[] } {
  if (x.shape.length < 2) {
    throw new DataFormatError(
      what,
      `${what} has shape (${x.shape.join(', ')}); expected examples along the first axis, e.g. (n, features) or (n, h, w[, c]).`,
    );
  }
  const rest = x.shape.slice(1);
  const shape = rest.length === 2 ? [...rest, 1] : rest; // (n, h, w) images get one channel
  const raw = x.data instanceof Uint8Array ? x.data : Float32Array.from(x.data);
  return { raw, shape };
}

function pairOf(x: NpyArray, y: NpyArray, xWhat: string, yWhat: string) {
  const ex = examplesOf(x, xWhat);
  const labels = labelValues(y, yWhat);
  if (labels.length !== x.shape[0]) {
    throw new DataFormatError(
      yWhat,
      `${yWhat} holds ${labels.length} labels but ${xWhat} holds ${x.shape[0]} examples; expected one label per example.`,
    );
  }
  return { ...ex, labelValues: labels };
}

function kindOf(shape: number[]): SourceData['kind'] {
  return shape.length >= 3 ? 'image' : 'features';
}

async function fromArrays(
  path: string,
  train: { x: NpyArray; y: NpyArray; xWhat: string; yWhat: string },
  test: { x: NpyArray; y: NpyArray; xWhat: string; yWhat: string } | undefined,
  options: TabularOptions,
): Promise<SourceData> {
  const tr = pairOf(train.x, train.y, train.xWhat, train.yWhat);
  const { classes, index } = classIndex(tr.labelValues);
  const trainSet: LabelledSet = {
    raw: tr.raw,
    shape: tr.shape,
    labels: indicesOf(tr.labelValues, index, train.yWhat, (i) => `${train.yWhat}[${i}]`),
  };
  const base = { kind: kindOf(tr.shape), classes, imageSize: null };
  if (!test) {
    return {
      ...base,
      ...splitTrainTest(trainSet, classes.length, options.testSplit),
      source: `numpy:${path} (test split ${options.testSplit})`,
    };
  }
  const te = pairOf(test.x, test.y, test.xWhat, test.yWhat);
  if (
    te.shape.join() !== tr.shape.join() ||
    te.raw instanceof Uint8Array !== tr.raw instanceof Uint8Array
  ) {
    throw new DataFormatError(
      test.xWhat,
      `${test.xWhat} holds examples of shape (${te.shape.join(', ')}) but ${train.xWhat} holds (${tr.shape.join(', ')}); expected the same shape and type.`,
    );
  }
  return {
    ...base,
    train: shuffled(trainSet),
    test: {
      raw: te.raw,
      shape: te.shape,
      labels: indicesOf(te.labelValues, index, test.yWhat, (i) => `${test.yWhat}[${i}]`),
    },
    source: `numpy:${path} (train, test)`,
  };
}

/**
 * Reads an `.npz` holding `x` and `y` (a test split is drawn) or `x_train`, `y_train`, `x_test`,
 * `y_test` (as Keras's `mnist.npz`). Labels are integers; inputs of bytes are images, others
 * float features (2-D) or float images.
 */
export async function loadNpz(path: string, options: TabularOptions): Promise<SourceData> {
  const arrays = await readNpz(path);
  const get = (name: string) => arrays.get(name);
  const at = (name: string) => `${path}:${name}`;
  if (get('x_train') && get('y_train') && get('x_test') && get('y_test')) {
    return fromArrays(
      path,
      { x: get('x_train')!, y: get('y_train')!, xWhat: at('x_train'), yWhat: at('y_train') },
      { x: get('x_test')!, y: get('y_test')!, xWhat: at('x_test'), yWhat: at('y_test') },
      options,
    );
  }
  const x = get('x');
  const y = get('y');
  if (!x || !y) {
    throw new DataFormatError(
      path,
      `${path} holds arrays ${[...arrays.keys()].join(', ') || '(none)'}; expected 'x' and 'y' (or x_train, y_train, x_test, y_test), e.g. np.savez(path, x=x, y=y).`,
    );
  }
  return fromArrays(path, { x, y, xWhat: at('x'), yWhat: at('y') }, undefined, options);
}

/** The label file paired with an input `.npy`: its name with the first `x` made `y`. */
export function labelFileOf(xPath: string): string {
  const name = basename(xPath);
  return join(
    dirname(xPath),
    name.replace(/x/i, (m) => (m === 'x' ? 'y' : 'Y')),
  );
}

/**
 * Reads a pair of `.npy` files: `PATH` is the inputs (`x.npy`, `x_train.npy`, …) and the labels
 * are its sibling with the first `x` made `y`. `x_test.npy`/`y_test.npy` beside a
 * `x_train.npy` are the test split; otherwise a test split is drawn.
 */
export async function loadNpyPair(xPath: string, options: TabularOptions): Promise<SourceData> {
  const yPath = labelFileOf(xPath);
  if (yPath === xPath || !existsSync(yPath)) {
    throw new DataFormatError(
      xPath,
      `${xPath} needs its labels in ${yPath === xPath ? "a sibling file named with 'y' for its 'x'" : yPath}; save them with np.save('${basename(yPath)}', y).`,
    );
  }
  const train = { x: await readNpy(xPath), y: await readNpy(yPath), xWhat: xPath, yWhat: yPath };
  const xTest = join(dirname(xPath), basename(xPath).replace(/train/, 'test'));
  const yTest = labelFileOf(xTest);
  if (xTest !== xPath && existsSync(xTest) && existsSync(yTest)) {
    const test = { x: await readNpy(xTest), y: await readNpy(yTest), xWhat: xTest, yWhat: yTest };
    return fromArrays(xPath, train, test, options);
  }
  return fromArrays(xPath, train, undefined, options);
}
