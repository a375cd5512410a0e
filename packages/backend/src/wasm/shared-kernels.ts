import type { FusedBatchNormAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import { type WasmBackendLike, WasmScope } from './scope.js';

/**
 * `Identity` that shares the input's buffer (refcounted), as tfjs's cpu backend does, instead of
 * copying it: tfjs never writes into a tensor's buffer, and the engine clones every gradient
 * through this kernel (about 50 full-size copies per step of the reference CNN).
 */
export function sharedIdentity(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64') return original(args);
    (args.backend as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/**
 * `FusedBatchNorm` as (x − mean) · (scale / √(variance + ε)) + offset: three broadcast XNNPACK
 * passes over x are about twice as fast as the stock kernel's scalar loop.
 */
export function compositeBatchNorm(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as {
      x: TensorInfo;
      mean: TensorInfo;
      variance: TensorInfo;
      offset?: TensorInfo;
      scale?: TensorInfo;
    };
    if (x.dtype !== 'float32') return original(args);
    const { varianceEpsilon } = kernelAttrs<FusedBatchNormAttrs>(args.attrs);
    const s = new WasmScope(args.backend as WasmBackendLike);
    try {
      const eps = s.run('Fill', {}, { shape: [], value: varianceEpsilon, dtype: 'float32' });
      let factor = s.run('Rsqrt', { x: s.run('Add', { a: variance, b: eps }) });
      if (scale != null) factor = s.mul(factor, scale);
      let out = s.mul(s.run('Sub', { a: x, b: mean }), factor);
      if (offset != null) out = s.run('Add', { a: out, b: offset });
      return s.keep(out);
    } finally {
      s.dispose();
    }
  };
}
