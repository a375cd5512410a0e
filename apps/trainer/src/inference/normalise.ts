import type { RunPreprocessing } from './run-data-info.js';

/**
 * The model inputs of raw examples: `(raw − mean) · (1 / std)` per value, `mean` and `std`
 * broadcast over the last axis, in double precision rounded once to float32 — as training
 * scaled them.
 */
export function normalise(
  raw: ArrayLike<number>,
  prep: Pick<RunPreprocessing, 'mean' | 'std'>,
): Float32Array {
  const out = new Float32Array(raw.length);
  const width =
    prep.mean.length === 1 && prep.std.length === 1
      ? 1
      : Math.max(prep.mean.length, prep.std.length);
  const mean = Array.from({ length: width }, (_, c) => prep.mean[prep.mean.length === 1 ? 0 : c]!);
  const inv = Array.from({ length: width }, (_, c) => 1 / prep.std[prep.std.length === 1 ? 0 : c]!);
  for (let i = 0; i < raw.length; i++) {
    const c = i % width;
    out[i] = (raw[i]! - mean[c]!) * inv[c]!;
  }
  return out;
}
