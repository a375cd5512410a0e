import { requireInteger } from './validate.js';

/** A seeded source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A small, fast, seedable PRNG (mulberry32). Not cryptographic; for sampling curve positions,
 * shuffling and synthetic data, where runs must repeat exactly under the same seed.
 */
export function seededRandom(seed: number): Random {
  let state = requireInteger('seed', seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `0 … n−1` driven by `random`. */
export function shuffledIndices(n: number, random: Random): Int32Array {
  const out = new Int32Array(requireInteger('n', n));
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
