import * as tf from '@tensorflow/tfjs-core';

/** How a backend reduces tensors to one "all finite?" sentinel. */
export type FiniteStrategy = 'sum' | 'exact';

const strategies = new Map<string, FiniteStrategy>();

/**
 * A scalar that is finite if every value of `tensors` is finite. It is never finite when some
 * value is NaN or ±Infinity (on a backend that passed the probe), but may be non-finite for
 * finite values whose partial sums overflow float32: callers confirm that case exactly with
 * `firstNonFinite`. Call inside `tf.tidy`.
 *
 * - `'sum'`: `Σ tf.sum(t)`, one read of every value. (On wasm a `ones`-vector matrix product is
 *   no faster: both cost about 1.6× a `tf.add` of the same size there.)
 * - `'exact'`: `any(!isFinite(t))`, ~3× slower, for backends whose sums drop NaN.
 */
export function finiteSentinel(tensors: readonly tf.Tensor[], strategy: FiniteStrategy): tf.Scalar {
  if (tensors.length === 0) return tf.scalar(0);
  if (strategy === 'exact') {
    const bad = tf.any(tf.stack(tensors.map((t) => tf.any(tf.logicalNot(tf.isFinite(t))))));
    return tf.where(bad, tf.scalar(Number.NaN), tf.scalar(0));
  }
  const parts = tensors.map((t) => tf.sum(t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
  return parts.length === 1 ? (parts[0] as tf.Scalar) : (tf.addN(parts) as tf.Scalar);
}

/** Index of the first tensor holding NaN or ±Infinity, or -1 (reads one small tensor back). */
export async function firstNonFinite(tensors: readonly tf.Tensor[]): Promise<number> {
  if (tensors.length === 0) return -1;
  const flags = tf.tidy(() => tf.stack(tensors.map((t) => tf.any(tf.logicalNot(tf.isFinite(t))))));
  const bad = await flags.data();
  flags.dispose();
  return bad.findIndex((b) => b !== 0);
}

/**
 * `'sum'` if the current backend's sums propagate NaN and ±Infinity (probed once per backend on
 * small and SIMD-sized tensors), else `'exact'`.
 */
export async function finiteStrategy(): Promise<FiniteStrategy> {
  const backend = tf.getBackend();
  const known = strategies.get(backend);
  if (known) return known;
  const chosen: FiniteStrategy = (await passesProbe('sum')) ? 'sum' : 'exact';
  strategies.set(backend, chosen);
  return chosen;
}

async function passesProbe(strategy: FiniteStrategy): Promise<boolean> {
  const results = tf.tidy(() => {
    const cases: { tensor: tf.Tensor; finite: boolean }[] = [];
    const big = (value: number, at: number) =>
      tf.reshape(
        tf.where(
          tf.equal(tf.range(0, 129 * 33), at),
          tf.fill([129 * 33], value),
          tf.ones([129 * 33]),
        ),
        [129, 33],
      );
    cases.push({ tensor: big(1, -1), finite: true });
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 1000, 129 * 33 - 1])
        cases.push({ tensor: big(value, at), finite: false });
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
