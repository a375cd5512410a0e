/**
 * How raw examples become model inputs, recorded in a run folder as `preprocessing.json` so that
 * `predict` and `export` treat new inputs exactly as training did: the model takes
 * `(raw - mean) / std`, with `mean` and `std` broadcast over the last axis (length 1, or the
 * channel / feature count).
 */
export interface Preprocessing {
  format: typeof PREPROCESSING_FORMAT;
  /** `image`: pixels `[h, w, c]`; `features`: one row of numbers `[f]`. */
  kind: 'image' | 'features';
  /** Shape of one example as the model takes it. */
  inputShape: number[];
  /** How examples are held before the normalisation. */
  rawDtype: 'uint8' | 'float32';
  mean: number[];
  std: number[];
  /** Images: the `[h, w]` every image was resized to (`--image-size`), else `null`. */
  imageSize: [number, number] | null;
}

/** The `format` tag of `preprocessing.json`. */
export const PREPROCESSING_FORMAT = 'onerun.preprocessing/1';

/** Raw examples as the data stores them: bytes for images, floats for features. */
export type RawValues = Uint8Array | Float32Array;

/** Pixels as they are scaled today: raw / 255 (mean 0, std 255). */
export function imagePreprocessing(
  inputShape: number[],
  imageSize: [number, number] | null,
  rawDtype: Preprocessing['rawDtype'] = 'uint8',
): Preprocessing {
  return {
    format: PREPROCESSING_FORMAT,
    kind: 'image',
    inputShape,
    rawDtype,
    mean: [0],
    std: rawDtype === 'uint8' ? [255] : [1],
    imageSize,
  };
}

/**
 * Per-column mean and standard deviation (population) of `count` rows of `width` values, over the
 * rows listed in `rows` (the training split only). A column with std 0 gets std 1, so a constant
 * feature becomes 0 rather than NaN.
 */
export function columnStats(
  raw: RawValues,
  width: number,
  rows: ArrayLike<number>,
): { mean: number[]; std: number[] } {
  const sum = new Float64Array(width);
  const sumSq = new Float64Array(width);
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r]! * width;
    for (let j = 0; j < width; j++) sum[j]! += raw[base + j]!;
  }
  const n = Math.max(rows.length, 1);
  const mean = Array.from(sum, (s) => s / n);
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r]! * width;
    for (let j = 0; j < width; j++) {
      const d = raw[base + j]! - mean[j]!;
      sumSq[j]! += d * d;
    }
  }
  const std = Array.from(sumSq, (s) => {
    const sd = Math.sqrt(s / n);
    return sd > 0 && Number.isFinite(sd) ? sd : 1;
  });
  return { mean, std };
}

/**
 * Writes the model inputs of the examples `indices` (each `per` raw values) into `out`:
 * `(raw - mean) · (1 / std)` per value, in double precision rounded once to float32. With mean 0
 * and std 255 this is exactly the app's historic `byte · (1/255)` scaling.
 */
export function normaliseInto(
  raw: RawValues,
  per: number,
  indices: ArrayLike<number>,
  prep: Pick<Preprocessing, 'mean' | 'std'>,
  out: Float32Array,
): Float32Array {
  const { mean, std } = prep;
  if (mean.length === 1 && std.length === 1) {
    const m = mean[0]!;
    // Times the reciprocal, as the app always scaled bytes: the same float32 values as before.
    const s = 1 / std[0]!;
    for (let i = 0; i < indices.length; i++) {
      const src = indices[i]! * per;
      const dst = i * per;
      for (let j = 0; j < per; j++) out[dst + j] = (raw[src + j]! - m) * s;
    }
    return out;
  }
  const width = mean.length;
  const inv = std.map((s) => 1 / s);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]! * per;
    const dst = i * per;
    for (let j = 0; j < per; j++) {
      const c = j % width;
      out[dst + j] = (raw[src + j]! - mean[c]!) * inv[c]!;
    }
  }
  return out;
}
