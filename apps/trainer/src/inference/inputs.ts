import { existsSync, statSync } from 'node:fs';
import { readIdxFile } from '../data/idx.js';
import { UsageError } from '../errors.js';
import type { RunPreprocessing } from './run-data-info.js';

/** New examples to predict on, as the data stores them (before the run's preprocessing). */
export interface RawInputs {
  /** Where they came from. */
  source: string;
  /** `count × prod(inputShape)` raw values (pixels 0–255, raw features). */
  values: Uint8Array | Float32Array;
  count: number;
}

/**
 * Reads the examples of `path` without labels, each of the run's input shape: an IDX image file
 * (`[n, h, w]` or `[n, h, w, c]`, as Fashion-MNIST's `t10k-images-idx3-ubyte(.gz)`).
 */
export async function loadRawInputs(path: string, prep: RunPreprocessing): Promise<RawInputs> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new UsageError(
      `--data ${path}: no such file; expected an IDX image file of new examples.`,
    );
  }
  const idx = await readIdxFile(path);
  const [count = 0, ...shape] = idx.dims;
  const want = prep.inputShape;
  const fits =
    shape.join() === want.join() ||
    (want.length === 3 && want[2] === 1 && shape.join() === want.slice(0, 2).join());
  if (!fits) {
    throw new UsageError(
      `--data ${path} holds examples of shape [${shape.join(', ')}]; the run's model takes [${want.join(', ')}].`,
    );
  }
  if (count < 1) throw new UsageError(`--data ${path} holds no examples.`);
  return { source: path, values: idx.data, count };
}
