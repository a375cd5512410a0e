import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors.js';
import { requireInteger } from './validate.js';

/** A model's input(s): one tensor, or one per input of a multi-input model. */
export type Inputs = tf.Tensor | tf.Tensor[];

/** One batch of examples: inputs and, where the task has them, targets. */
export interface Batch {
  xs: Inputs;
  ys?: Inputs;
}

/** What a data source may yield per element: a batch, an `[xs, ys]` pair, or bare inputs. */
export type BatchElement = Batch | [Inputs, Inputs] | tf.Tensor;

/** The structural part of `tf.data.Dataset` that onerun relies on (no tfjs-data dependency). */
export interface DatasetLike<T = BatchElement> {
  iterator(): Promise<{ next(): Promise<IteratorResult<T>> }>;
}

/**
 * Anything onerun can iterate over in batches:
 * - a tensor of inputs, `{ xs, ys? }` or an `[xs, ys]` pair: sliced into batches of `batchSize`
 *   along the first axis (`xs` may be an array of tensors for multi-input models);
 * - a `tf.data.Dataset` whose elements are already batches (`dataset.batch(n)`);
 * - an async iterable (e.g. an async generator) of batches.
 */
export type DataSource =
  | tf.Tensor
  | Batch
  | [Inputs, Inputs]
  | DatasetLike
  | AsyncIterable<BatchElement>;

/** A batch handed out by `iterateBatches`; call `dispose()` when done with it. */
export interface OwnedBatch extends Batch {
  /** Number of examples in this batch. */
  size: number;
  /** Frees the tensors onerun created for this batch (slices, dataset elements); never the user's. */
  dispose(): void;
}

function isTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor;
}

function isInputs(value: unknown): value is Inputs {
  return isTensor(value) || (Array.isArray(value) && value.length > 0 && value.every(isTensor));
}

function isDatasetLike(value: unknown): value is DatasetLike {
  return typeof (value as DatasetLike | null)?.iterator === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<BatchElement> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/** The first tensor of `inputs` (the one whose first axis counts the examples). */
export function firstTensor(inputs: Inputs): tf.Tensor {
  const t = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!t) throw new InvalidArgumentError('inputs', inputs, 'a tensor or a non-empty tensor array');
  return t;
}

/** Number of examples in `inputs` (size of the first axis). */
export function exampleCount(inputs: Inputs): number {
  const n = firstTensor(inputs).shape[0];
  if (n === undefined)
    throw new InvalidArgumentError('inputs', inputs, 'tensors with a batch axis');
  return n;
}

/** Normalises one element of a data source to a `Batch`. */
export function toBatch(element: unknown, argument = 'data'): Batch {
  if (isTensor(element)) return { xs: element };
  if (
    Array.isArray(element) &&
    element.length === 2 &&
    isInputs(element[0]) &&
    isInputs(element[1])
  ) {
    return { xs: element[0], ys: element[1] };
  }
  if (element && typeof element === 'object' && 'xs' in element) {
    const { xs, ys } = element as Batch;
    if (isInputs(xs) && (ys === undefined || isInputs(ys)))
      return ys === undefined ? { xs } : { xs, ys };
  }
  throw new InvalidArgumentError(
    argument,
    element,
    'a tensor, { xs, ys? } of tensors, or an [xs, ys] pair',
  );
}

function disposeInputs(inputs: Inputs | undefined): void {
  if (inputs) tf.dispose(inputs as tf.Tensor | tf.Tensor[]);
}

function sliceInputs(inputs: Inputs, begin: number, size: number): Inputs {
  const slice = (t: tf.Tensor) => tf.slice(t, [begin], [size]);
  return Array.isArray(inputs) ? inputs.map(slice) : slice(inputs);
}

/**
 * Iterates `data` batch by batch. Tensor sources are sliced lazily (one batch alive at a time);
 * dataset elements are disposed by `dispose()` as `model.fitDataset` does; batches from a user's
 * async iterable are handed through and stay the user's to dispose.
 */
export async function* iterateBatches(
  data: DataSource,
  options: { batchSize?: number; argument?: string } = {},
): AsyncGenerator<OwnedBatch> {
  const argument = options.argument ?? 'data';
  if (isDatasetLike(data)) {
    const it = await data.iterator();
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const batch = toBatch(r.value, argument);
      yield {
        ...batch,
        size: exampleCount(batch.xs),
        dispose: () => {
          disposeInputs(batch.xs);
          disposeInputs(batch.ys);
        },
      };
    }
    return;
  }
  if (isAsyncIterable(data)) {
    for await (const element of data) {
      const batch = toBatch(element, argument);
      yield { ...batch, size: exampleCount(batch.xs), dispose: () => {} };
    }
    return;
  }
  const whole = toBatch(data, argument);
  const batchSize = requireInteger('batchSize', options.batchSize ?? 32, 1);
  const n = examplesOf(whole, argument);
  for (let begin = 0; begin < n; begin += batchSize) {
    const size = Math.min(batchSize, n - begin);
    const xs = sliceInputs(whole.xs, begin, size);
    const ys = whole.ys === undefined ? undefined : sliceInputs(whole.ys, begin, size);
    yield {
      xs,
      ...(ys === undefined ? {} : { ys }),
      size,
      dispose: () => {
        disposeInputs(xs);
        disposeInputs(ys);
      },
    };
  }
}

/** The number of examples of a whole batch, checking that `ys` has as many as `xs`. */
function examplesOf(whole: Batch, argument: string): number {
  const n = exampleCount(whole.xs);
  if (whole.ys !== undefined && exampleCount(whole.ys) !== n) {
    throw new InvalidArgumentError(
      `${argument}.ys`,
      firstTensor(whole.ys),
      `${n} examples, as many as ${argument}.xs has`,
    );
  }
  return n;
}

function gatherInputs(inputs: Inputs, order: tf.Tensor1D): Inputs {
  return Array.isArray(inputs) ? inputs.map((t) => tf.gather(t, order)) : tf.gather(inputs, order);
}

/**
 * A shuffled copy of a tensor source (a tensor, `{ xs, ys? }` or `[xs, ys]`), in the order
 * `indicesFor(n)` gives (e.g. `n => shuffledIndices(n, random)`); `dispose()` frees the copy.
 * Datasets and async iterables are handed through unchanged (they shuffle themselves).
 */
export function shuffledSource(
  data: DataSource,
  indicesFor: (n: number) => Int32Array,
): { data: DataSource; dispose: () => void } {
  if (isDatasetLike(data) || isAsyncIterable(data)) return { data, dispose: () => {} };
  const whole = toBatch(data);
  const order = tf.tensor1d(indicesFor(examplesOf(whole, 'data')), 'int32');
  const xs = gatherInputs(whole.xs, order);
  const ys = whole.ys === undefined ? undefined : gatherInputs(whole.ys, order);
  order.dispose();
  return {
    data: ys === undefined ? { xs } : { xs, ys },
    dispose: () => tf.dispose([xs, ys ?? []].flat()),
  };
}
