import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataFormatError } from '../errors.js';
import { loadImageFolder } from './image-folder.js';
import type { SourceData } from './labelled.js';
import { loadCsv, loadNpyPair, loadNpz } from './tabular.js';

/** The formats `--data PATH` reads. */
export type DataFormat = 'images' | 'csv' | 'numpy';

/** Options of `readDataPath`. */
export interface PathDataOptions {
  imageSize?: [number, number];
  labelColumn?: string;
  testSplit: number;
}

/**
 * Reads the data at `path`, by what is there: a `.csv` file; an `.npz`; an `.npy` of inputs
 * with its labels beside it; a folder holding `train.csv` and `test.csv`; a folder holding
 * `x.npy`/`y.npy` (or `x_train.npy`…); otherwise a folder of class-named image folders.
 */
export async function readDataPath(
  path: string,
  options: PathDataOptions,
): Promise<{ format: DataFormat; data: SourceData }> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (error) {
    throw new DataFormatError(path, `${path} cannot be read (${(error as Error).message}).`);
  }
  const tabular = {
    testSplit: options.testSplit,
    ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}),
  };
  if (!isDir) {
    const lower = path.toLowerCase();
    if (lower.endsWith('.csv')) return { format: 'csv', data: await loadCsv(path, tabular) };
    if (lower.endsWith('.npz')) return { format: 'numpy', data: await loadNpz(path, tabular) };
    if (lower.endsWith('.npy')) return { format: 'numpy', data: await loadNpyPair(path, tabular) };
    throw new DataFormatError(
      path,
      `${path} is not a data file onerun reads; expected a folder of class folders of images, a .csv, .npz or .npy file.`,
    );
  }
  const names = new Set(readdirSync(path));
  if (names.has('train.csv') && names.has('test.csv')) {
    return { format: 'csv', data: await loadCsv(path, tabular, true) };
  }
  for (const x of ['x_train.npy', 'x.npy']) {
    if (names.has(x)) return { format: 'numpy', data: await loadNpyPair(join(path, x), tabular) };
  }
  return {
    format: 'images',
    data: await loadImageFolder(path, {
      testSplit: options.testSplit,
      ...(options.imageSize ? { imageSize: options.imageSize } : {}),
    }),
  };
}
