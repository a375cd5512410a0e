// Test helpers (not exported from the package): run one kernel on the cpu and wasm backends
// from the same input values and compare.
import { type Random, seededRandom } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { WasmBackendLike } from './scope.js';

export interface HostTensor {
  values: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

export function randomTensor(rand: Random, shape: number[], levels?: number): HostTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    // `levels` quantises to a few values so that ties (as after a ReLU) are common.
    values[i] = levels ? Math.floor(rand() * levels) - 1 : rand() * 2 - 1;
  }
  return { values, shape, dtype: 'float32' };
}

export function randInt(rand: Random, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

export function pick<T>(rand: Random, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

export { seededRandom };

interface KernelResult {
  values: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: string;
}

/**
 * Runs `kernel` on `backend` from host values; disposes everything and, on wasm, checks that the
 * backend holds exactly as many buffers afterwards as before (no intermediate leaked).
 */
export async function runOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, HostTensor>,
  attrs: object,
): Promise<KernelResult> {
  await tf.setBackend(backend);
  const wasm = tf.backend() as unknown as WasmBackendLike;
  const before = wasm.numDataIds();
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(inputs))
    tensors[name] = tf.tensor(t.values, t.shape, t.dtype);
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = {
    values: (await out.data()) as KernelResult['values'],
    shape: out.shape,
    dtype: out.dtype,
  };
  tf.dispose([out, ...Object.values(tensors)]);
  if (backend === 'wasm')
    expect(wasm.numDataIds(), `${kernel} leaked backend buffers`).toBe(before);
  return result;
}

/** |a − b| ≤ rtol · max|b| elementwise (relative to the tensor's scale), same shape and dtype. */
export function expectClose(
  actual: KernelResult,
  expected: KernelResult,
  what: string,
  rtol = 1e-4,
): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype);
  let scale = 0;
  for (const v of expected.values) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const d = Math.abs((actual.values[i] as number) - (expected.values[i] as number));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const limit = rtol * Math.max(scale, 1e-6);
  expect(worst, `${what}: max |diff| ${worst} at ${at} (scale ${scale})`).toBeLessThanOrEqual(
    limit,
  );
}

/** Runs on both backends and compares. */
export async function expectKernelMatchesCpu(
  kernel: string,
  inputs: Record<string, HostTensor>,
  attrs: object,
  what: string,
): Promise<void> {
  const expected = await runOn('cpu', kernel, inputs, attrs);
  const actual = await runOn('wasm', kernel, inputs, attrs);
  expectClose(actual, expected, `${kernel} ${what}`);
}
