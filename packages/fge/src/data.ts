import { type Batch, type DataSource, exampleCount, type Inputs, toBatch } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';

/** True for sources held as whole tensors (sliced into batches by onerun), not datasets. */
export function isTensorSource(data: DataSource): data is tf.Tensor | Batch | [Inputs, Inputs] {
  return (
    data instanceof tf.Tensor ||
    Array.isArray(data) ||
    (typeof data === 'object' && data !== null && 'xs' in data)
  );
}

function gatherInputs(inputs: Inputs, order: tf.Tensor1D): Inputs {
  return Array.isArray(inputs) ? inputs.map((t) => tf.gather(t, order)) : tf.gather(inputs, order);
}

/**
 * A shuffled copy of a tensor source, in the order `indices`; `dispose()` frees the copy.
 * Datasets and iterables are handed through (they shuffle themselves).
 */
export function shuffledSource(
  data: DataSource,
  indicesFor: (n: number) => Int32Array,
): { data: DataSource; dispose: () => void } {
  if (!isTensorSource(data)) return { data, dispose: () => {} };
  const whole = toBatch(data);
  const order = tf.tensor1d(indicesFor(exampleCount(whole.xs)), 'int32');
  const xs = gatherInputs(whole.xs, order);
  const ys = whole.ys === undefined ? undefined : gatherInputs(whole.ys, order);
  order.dispose();
  return {
    data: ys === undefined ? { xs } : { xs, ys },
    dispose: () => tf.dispose([xs, ys ?? []].flat()),
  };
}
