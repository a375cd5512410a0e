import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { WasmNotLoadedError } from '../errors.js';
import {
  conv2dBackpropFilter,
  conv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
} from './conv-backprop.js';
import { fastLeadingReduction, fastTile, maxPoolGrad } from './heap-kernels.js';
import { fastTransposedMatMul } from './matmul.js';
import { unsortedSegmentSum } from './segment-sum.js';
import { compositeBatchNorm, sharedIdentity } from './shared-kernels.js';

/** Marks kernel functions installed by this package (the registry is global to all copies). */
const MARK = Symbol.for('@onerun/backend/wasm-training-kernel');

const PREVIOUS = Symbol.for('@onerun/backend/wasm-training-kernel-previous');

/** Ours: marked, and holding the registration it replaced (none for a kernel wasm lacks). */
type MarkedKernelFunc = KernelFunc & { [MARK]?: true; [PREVIOUS]?: KernelConfig };

function mark(f: KernelFunc): KernelFunc {
  (f as MarkedKernelFunc)[MARK] = true;
  return f;
}

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as MarkedKernelFunc)[MARK] === true;
}

/** The kernels this package provides for (or replaces on) the wasm backend. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'BatchMatMul',
  '_FusedMatMul',
  'Tile',
  'MaxPoolGrad',
  'Sum',
  'Mean',
  'Identity',
  'FusedBatchNorm',
] as const;

/** What {@link registerWasmTrainingKernels} did. */
export interface WasmKernelRegistration {
  /** Kernels installed by this call. */
  registered: string[];
  /** Kernels that were already this package's (the call is idempotent). */
  alreadyRegistered: string[];
  /** Stock wasm kernels that were replaced (by a faster version built on the same backend). */
  replaced: string[];
}

function install(
  name: string,
  build: (previous: KernelConfig | undefined) => KernelFunc | undefined,
  result: WasmKernelRegistration,
): void {
  const previous = getKernel(name, 'wasm');
  if (isOurs(previous)) {
    result.alreadyRegistered.push(name);
    return;
  }
  const kernelFunc = build(previous);
  if (kernelFunc === undefined) return;
  const config: KernelConfig = {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: mark(kernelFunc),
  };
  if (previous !== undefined) (config.kernelFunc as MarkedKernelFunc)[PREVIOUS] = previous;
  if (previous !== undefined) {
    // The engine calls setupFunc on every setBackend('wasm'); the wrapped original still needs it.
    if (previous.setupFunc !== undefined) config.setupFunc = previous.setupFunc;
    if (previous.disposeFunc !== undefined) config.disposeFunc = previous.disposeFunc;
    unregisterKernel(name, 'wasm');
    result.replaced.push(name);
  }
  registerKernel(config);
  result.registered.push(name);
}

/**
 * Registers on the wasm backend the kernels a convnet needs to train and the stock wasm build
 * lacks or runs slowly: `Conv2DBackpropFilter`, a fast `Conv2DBackpropInput`,
 * `DepthwiseConv2dNativeBackpropFilter/Input` (all through wasm's XNNPACK convolutions),
 * `UnsortedSegmentSum`, and `BatchMatMul` / `_FusedMatMul` wrappers that send transposed
 * products (dense-layer gradients) to XNNPACK. Idempotent; safe to call before or after
 * `tf.setBackend('wasm')`. `selectBackend` calls it when it picks wasm.
 *
 * The stock wasm kernels must be registered first (import `@tensorflow/tfjs-backend-wasm`
 * before calling this), because the wrappers build on them.
 */
export function registerWasmTrainingKernels(): WasmKernelRegistration {
  if (getKernel('Conv2D', 'wasm') === undefined) {
    throw new WasmNotLoadedError();
  }
  const result: WasmKernelRegistration = { registered: [], alreadyRegistered: [], replaced: [] };
  install('Conv2DBackpropFilter', () => conv2dBackpropFilter, result);
  install('Conv2DBackpropInput', () => conv2dBackpropInput, result);
  install('DepthwiseConv2dNativeBackpropFilter', () => depthwiseConv2dBackpropFilter, result);
  install('DepthwiseConv2dNativeBackpropInput', () => depthwiseConv2dBackpropInput, result);
  install('UnsortedSegmentSum', () => unsortedSegmentSum, result);
  install('BatchMatMul', (prev) => prev && fastTransposedMatMul(prev.kernelFunc, false), result);
  install('_FusedMatMul', (prev) => prev && fastTransposedMatMul(prev.kernelFunc, true), result);
  install('Tile', (prev) => prev && fastTile(prev.kernelFunc), result);
  install('MaxPoolGrad', () => maxPoolGrad, result);
  install('Sum', (prev) => prev && fastLeadingReduction(prev.kernelFunc, false), result);
  install('Mean', (prev) => prev && fastLeadingReduction(prev.kernelFunc, true), result);
  install('Identity', (prev) => prev && sharedIdentity(prev.kernelFunc), result);
  install('FusedBatchNorm', (prev) => prev && compositeBatchNorm(prev.kernelFunc), result);
  return result;
}

/**
 * Undoes {@link registerWasmTrainingKernels}: removes the kernels it added and registers again
 * the very stock wasm kernels it replaced. Returns the names of the kernels it removed.
 */
export function unregisterWasmTrainingKernels(): string[] {
  const removed: string[] = [];
  for (const name of WASM_TRAINING_KERNELS) {
    const current = getKernel(name, 'wasm');
    if (current === undefined || !isOurs(current)) continue;
    unregisterKernel(name, 'wasm');
    const previous = (current.kernelFunc as MarkedKernelFunc)[PREVIOUS];
    if (previous !== undefined) registerKernel(previous);
    removed.push(name);
  }
  return removed;
}
