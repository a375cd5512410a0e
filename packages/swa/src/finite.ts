import * as tf from '@tensorflow/tfjs-core';

/** How a backend reduces tensors to one "all finite?" sentinel. */
export type FiniteStrategy = 'pool' | 'sum' | 'exact';

const strategies = new Map<string, FiniteStrategy>();

/** Below this many values a plain sum is as fast as any layout trick. */
const POOL_MIN_SIZE = 16_384;
/**
 * Channel counts tried for the pooling layout, best first. XNNPACK vectorizes across channels;
 * on wasm 8–32 channels measured fastest (1.55–1.6× a `tf.add` for add + check, against 1.8× at
 * 64 and 2–2.8× at 100–1000). The operator keeps one pointer per row (`size / c` of them, cached
 * by the backend per tensor size), so wider rows are only the fallback.
 */
const POOL_CHANNELS: readonly (readonly [number, number])[] = [
  [32, 8],
  [1024, 33],
];

/**
 * Channels `c` for viewing `size` values as a `[1, size / c, 1, c]` image: the largest divisor
 * of `size` in [8, 32], else in [33, 1024], or 0 when there is none or the tensor is small (then
 * it is summed instead).
 */
export function poolChannels(size: number): number {
  if (size < POOL_MIN_SIZE) return 0;
  for (const [widest, narrowest] of POOL_CHANNELS) {
    for (let c = widest; c >= narrowest; c--) {
      if (size % c === 0) return c;
    }
  }
  return 0;
}

/**
 * One value per channel, each the mean of its column of a `[size / c, c]` view: an average pool
 * whose window covers every row. Finite iff the whole column is (barring overflow).
 */
function pooledColumns(t: tf.Tensor, channels: number): tf.Tensor1D {
  const rows = t.size / channels;
  const image = tf.reshape(t, [1, rows, 1, channels]) as tf.Tensor4D;
  return tf.reshape(tf.avgPool(image, [rows, 1], 1, 'valid'), [channels]);
}

/** One boolean per tensor: does it hold NaN or ±Infinity? Call inside `tf.tidy`. */
function nonFiniteFlags(tensors: readonly tf.Tensor[]): tf.Tensor1D {
  return tf.stack(tensors.map((t) => tf.any(tf.logicalNot(tf.isFinite(t))))) as tf.Tensor1D;
}

/**
 * A scalar that is finite if every value of `tensors` is finite. It is never finite when some
 * value is NaN or ±Infinity (on a backend that passed the probe), but may be non-finite for
 * finite values whose partial sums overflow float32: callers confirm that case exactly with
 * `firstNonFinite`. Call inside `tf.tidy`.
 *
 * - `'pool'` (wasm): each large tensor is reduced by one average pool over a `[1, n/c, 1, c]`
 *   view. The wasm backend runs pooling through XNNPACK, vectorized across the c channels; its
 *   `Sum` is a scalar loop. A checked SWA update went from 3.5–4.4× to 1.6–1.95× one `tf.add`
 *   of the same size (`bench/swa.bench.mjs`). Small tensors and sizes with no divisor in
 *   [8, 1024] are concatenated and summed.
 * - `'sum'`: `Σ tf.sum(t)`, one read of every value (the fastest reduction on cpu and tfjs-node).
 * - `'exact'`: `any(!isFinite(t))`, ~3× slower, for backends whose reductions drop NaN.
 */
export function finiteSentinel(tensors: readonly tf.Tensor[], strategy: FiniteStrategy): tf.Scalar {
  if (tensors.length === 0) return tf.scalar(0);
  if (strategy === 'exact') {
    return tf.where(tf.any(nonFiniteFlags(tensors)), tf.scalar(Number.NaN), tf.scalar(0));
  }
  const floats = tensors.map((t) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
  if (strategy === 'pool') {
    // One sum over the pooled columns and every small tensor: few kernel launches per update.
    const parts = floats.map((t) => {
      const channels = poolChannels(t.size);
      return channels > 0 ? pooledColumns(t, channels) : tf.reshape(t, [-1]);
    });
    return tf.sum(parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts));
  }
  const sums = floats.map((t) => tf.sum(t));
  return sums.length === 1 ? (sums[0] as tf.Scalar) : (tf.addN(sums) as tf.Scalar);
}

/** Index of the first tensor holding NaN or ±Infinity, or -1 (reads one small tensor back). */
export async function firstNonFinite(tensors: readonly tf.Tensor[]): Promise<number> {
  if (tensors.length === 0) return -1;
  const flags = tf.tidy(() => nonFiniteFlags(tensors));
  const bad = await flags.data();
  flags.dispose();
  return bad.findIndex((b) => b !== 0);
}

/**
 * Index of the first tensor holding NaN or ±Infinity, or -1. Reads back one scalar (the
 * sentinel of `finiteStrategy()`), and checks each tensor exactly only when that is not finite.
 */
export async function findNonFinite(tensors: readonly tf.Tensor[]): Promise<number> {
  const strategy = await finiteStrategy();
  const check = tf.tidy(() => finiteSentinel(tensors, strategy));
  const [sentinel] = await check.data();
  check.dispose();
  // Finite values give a finite sentinel unless partial sums overflow: then look closer.
  return Number.isFinite(sentinel as number) ? -1 : firstNonFinite(tensors);
}

/**
 * The fastest strategy that passes a probe on the current backend (probed once per backend on
 * small, SIMD-sized and pool-sized tensors): `'pool'` is tried on wasm only, then `'sum'`, then
 * `'exact'`.
 */
export async function finiteStrategy(): Promise<FiniteStrategy> {
  const backend = tf.getBackend();
  const known = strategies.get(backend);
  if (known) return known;
  const candidates: FiniteStrategy[] = backend === 'wasm' ? ['pool', 'sum'] : ['sum'];
  let chosen: FiniteStrategy = 'exact';
  for (const strategy of candidates) {
    if (await passesProbe(strategy)) {
      chosen = strategy;
      break;
    }
  }
  strategies.set(backend, chosen);
  return chosen;
}

/** Sizes whose layouts differ: summed (small), 32 channels, 1021 channels (odd, wide). */
const PROBE_SHAPES: readonly (readonly [number, number])[] = [
  [129, 33],
  [64, 1001],
  [67, 1021],
];

async function passesProbe(strategy: FiniteStrategy): Promise<boolean> {
  const results = tf.tidy(() => {
    const cases: { tensor: tf.Tensor; finite: boolean }[] = [];
    for (const [rows, cols] of PROBE_SHAPES) {
      const size = rows * cols;
      const filled = (value: number, at: number) =>
        tf.reshape(
          tf.where(tf.equal(tf.range(0, size), at), tf.fill([size], value), tf.ones([size])),
          [rows, cols],
        );
      cases.push({ tensor: filled(1, -1), finite: true });
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        for (const at of [0, cols - 1, Math.floor(size / 2) + 3, size - 1]) {
          cases.push({ tensor: filled(value, at), finite: false });
        }
      }
    }
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      cases.push({ tensor: tf.tensor1d([1, value, 2]), finite: false });
    }
    return {
      values: tf.stack(cases.map((c) => finiteSentinel([c.tensor], strategy))),
      expected: cases.map((c) => c.finite),
    };
  });
  const values = await results.values.data();
  results.values.dispose();
  return results.expected.every((finite, i) => Number.isFinite(values[i] as number) === finite);
}
