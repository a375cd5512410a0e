import {
  type BatchMatMulAttrs,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { type WasmBackendLike, WasmScope } from './scope.js';

// wasm's BatchMatMul and _FusedMatMul reach XNNPACK only for a single matrix product with no
// transposed operand; anything else runs a scalar C++ loop. Gradients of a dense layer are
// exactly such products (dy·Wᵀ and xᵀ·dy), so the wrappers below transpose the operand
// explicitly (a fast memory copy) and call the original kernel on the fast path.

function isSingleMatrix(t: TensorInfo): boolean {
  return util.sizeFromShape(t.shape.slice(0, -2)) === 1;
}

/** [..., r, c] with unit batch dims -> [c, r] */
function transposed2d(s: WasmScope, t: TensorInfo): TensorInfo {
  const r = t.shape[t.shape.length - 2] ?? 1;
  const c = t.shape[t.shape.length - 1] ?? 1;
  return s.transpose(s.reshape(t, [r, c]), [1, 0]);
}

/**
 * Wraps the stock wasm kernel `original` (BatchMatMul or _FusedMatMul, which take the same
 * `a`, `b`, `transposeA`, `transposeB`) so transposed single-matrix products use XNNPACK.
 */
export function fastTransposedMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = args.attrs as unknown as BatchMatMulAttrs;
    if (
      (!attrs.transposeA && !attrs.transposeB) ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      !isSingleMatrix(a) ||
      !isSingleMatrix(b)
    ) {
      return original(args);
    }
    const s = new WasmScope(args.backend as WasmBackendLike);
    try {
      const a2 = attrs.transposeA ? transposed2d(s, a) : a;
      const b2 = attrs.transposeB ? transposed2d(s, b) : b;
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
