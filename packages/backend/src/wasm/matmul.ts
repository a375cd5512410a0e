import {
  type _FusedMatMulAttrs,
  type BatchMatMulAttrs,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import { type WasmBackendLike, WasmScope } from './scope.js';

// wasm's BatchMatMul and _FusedMatMul reach XNNPACK only for a single matrix product with no
// transposed operand; anything else runs a scalar C++ loop. Gradients of a dense layer are
// exactly such products (dy·Wᵀ and xᵀ·dy), so the wrappers below transpose the operand
// explicitly (a fast memory copy) and call the original kernel on the fast path.

function isSingleMatrix(t: TensorInfo): boolean {
  return util.sizeFromShape(t.shape.slice(0, -2)) === 1;
}

/** [..., r, c] with unit batch dims -> [1, c, r] (_FusedMatMul reads its operands as rank 3). */
function transposed3d(s: WasmScope, t: TensorInfo): TensorInfo {
  const r = t.shape[t.shape.length - 2] ?? 1;
  const c = t.shape[t.shape.length - 1] ?? 1;
  return s.reshape(s.transpose(s.reshape(t, [r, c]), [1, 0]), [1, c, r]);
}

function as3d(s: WasmScope, t: TensorInfo): TensorInfo {
  if (t.shape.length === 3) return t;
  return s.reshape(t, [1, t.shape[t.shape.length - 2] ?? 1, t.shape[t.shape.length - 1] ?? 1]);
}

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * `_FusedMatMul` as BatchMatMul + bias + activation: the stock kernel's scalar path (any
 * transposed operand or batch > 1) indexes a rank-1 bias by the flat output position, so every
 * row after the first gets the wrong bias.
 */
function unfusedMatMul(s: WasmScope, args: Parameters<KernelFunc>[0]): TensorInfo {
  const inputs = args.inputs as {
    a: TensorInfo;
    b: TensorInfo;
    bias: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  const attrs = kernelAttrs<_FusedMatMulAttrs>(args.attrs);
  let out = s.run(
    'BatchMatMul',
    { a: inputs.a, b: inputs.b },
    { transposeA: attrs.transposeA, transposeB: attrs.transposeB },
  );
  out = s.run('Add', { a: out, b: inputs.bias });
  const kernel = ACTIVATION_KERNELS[attrs.activation ?? 'linear'];
  if (kernel === 'LeakyRelu')
    out = s.run(kernel, { x: out }, { alpha: attrs.leakyreluAlpha ?? 0.2 });
  else if (kernel === 'Prelu')
    out = s.run(kernel, { x: out, alpha: inputs.preluActivationWeights ?? out });
  else if (kernel !== undefined) out = s.run(kernel, { x: out });
  return out;
}

/**
 * Wraps the stock wasm kernel `original` (BatchMatMul or _FusedMatMul, which take the same
 * `a`, `b`, `transposeA`, `transposeB`) so transposed single-matrix products use XNNPACK.
 */
export function fastTransposedMatMul(original: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const { a, b, bias } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
    const attrs = kernelAttrs<BatchMatMulAttrs>(args.attrs);
    const transposed = attrs.transposeA || attrs.transposeB;
    const single = isSingleMatrix(a) && isSingleMatrix(b);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (!transposed && single)) {
      return original(args);
    }
    const s = new WasmScope(args.backend as WasmBackendLike);
    try {
      if (!single) {
        if (!fused || bias == null) return original(args);
        return s.keep(unfusedMatMul(s, args));
      }
      const a2 = attrs.transposeA ? transposed3d(s, a) : as3d(s, a);
      const b2 = attrs.transposeB ? transposed3d(s, b) : as3d(s, b);
      const out = original({
        ...args,
        inputs: { ...args.inputs, a: a2, b: b2 },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
      if (Array.isArray(out)) return out;
      // Keep the rank of the product the caller expects ([1, m, n] for rank-3 inputs).
      const rank = Math.max(a.shape.length, b.shape.length);
      const m = out.shape[out.shape.length - 2] ?? 1;
      const n = out.shape[out.shape.length - 1] ?? 1;
      out.shape = [...new Array<number>(rank - 2).fill(1), m, n];
      return out;
    } finally {
      s.dispose();
    }
  };
}
