import {
  backend_util,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type SumAttrs,
  type TensorInfo,
  type TileAttrs,
  util,
} from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import { type WasmBackendLike, WasmScope } from './scope.js';

// Kernels the stock wasm build has but runs far slower than memory speed in the shapes a
// convnet's backward pass produces (measured on the reference CNN: Tile ~200 ms and
// MaxPoolGrad ~65 ms per call at batch 128). They are simple data movement, done here as tight
// loops over the wasm heap. Heap views are always taken after the last allocation, because
// growing the wasm memory detaches older views.

function heap(backend: WasmBackendLike, info: TensorInfo): Float32Array | Int32Array | Uint8Array {
  return backend.typedArrayFromHeap(info);
}

/**
 * `Tile` by in-place expansion from the innermost axis outwards: each block is copied once and
 * then doubled with `copyWithin` (memmove), so the cost is about one write of the output.
 */
export function fastTile(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return original(args);
    const { reps } = kernelAttrs<TileAttrs>(args.attrs);
    const b = args.backend as WasmBackendLike;
    const rank = x.shape.length;
    const outShape = x.shape.map((d, i) => d * (reps[i] ?? 1));
    const out = b.makeOutput(outShape, x.dtype);
    if (util.sizeFromShape(outShape) === 0) return out;
    const o = heap(b, out);
    o.set(heap(b, x), 0);
    const cur = x.shape.slice();
    for (let a = rank - 1; a >= 0; a--) {
      const r = reps[a] ?? 1;
      if (r === 1) continue;
      const outer = util.sizeFromShape(cur.slice(0, a));
      const block = util.sizeFromShape(cur.slice(a));
      const total = block * r;
      // Highest block first: its destination lies beyond every source still to be read.
      for (let k = outer - 1; k >= 0; k--) {
        const src = k * block;
        const dst = k * total;
        if (total <= 64) {
          for (let j = r - 1; j >= 0; j--) {
            for (let i = 0; i < block; i++) o[dst + j * block + i] = o[src + i] as number;
          }
          continue;
        }
        o.copyWithin(dst, src, src + block);
        for (let filled = block; filled < total; ) {
          const n = Math.min(filled, total - filled);
          o.copyWithin(dst + filled, dst, dst + n);
          filled += n;
        }
      }
      cur[a] = (cur[a] ?? 1) * r;
    }
    return out;
  };
}

/**
 * `MaxPoolGrad` as one pass over the windows: the gradient of each output goes to the first
 * maximum of its window (strict `>`, NaN never wins), exactly as tfjs's cpu backend decides.
 */
export const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = kernelAttrs<MaxPoolGradAttrs>(attrs);
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const b = backend as WasmBackendLike;
  const dx = b.makeOutput(input.shape, 'float32');
  const dxv = heap(b, dx);
  const xv = heap(b, input);
  const dyv = heap(b, dy);
  dxv.fill(0);
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  // Offsets of the window's in-bounds pixels; the channel loop then runs over contiguous memory.
  const window = new Int32Array(info.effectiveFilterHeight * info.effectiveFilterWidth);
  for (let n = 0; n < batchSize; n++) {
    for (let p = 0; p < oh; p++) {
      const r0 = p * info.strideHeight - info.padInfo.top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + info.effectiveFilterHeight);
      for (let q = 0; q < ow; q++) {
        const c0 = q * info.strideWidth - info.padInfo.left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + info.effectiveFilterWidth);
        let size = 0;
        for (let r = rMin; r < rMax; r++) {
          for (let col = cMin; col < cMax; col++) window[size++] = ((n * h + r) * w + col) * c;
        }
        const dyBase = ((n * oh + p) * ow + q) * c;
        for (let k = 0; k < c; k++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let e = 0; e < size; e++) {
            const i = (window[e] as number) + k;
            const v = xv[i] as number;
            if (v > best) {
              best = v;
              at = i;
            }
          }
          if (at >= 0) dxv[at] = (dxv[at] as number) + (dyv[dyBase + k] as number);
        }
      }
    }
  }
  return dx;
};

/**
 * Wraps the stock wasm `Sum` or `Mean`: a reduction over a contiguous block of axes that is not
 * innermost ([B,H,W,C] over B,H,W — every batch-norm statistic and its gradient) runs as one
 * streaming pass with float64 accumulators, instead of a full transpose followed by a reduction.
 */
export function fastLeadingReduction(original: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = kernelAttrs<SumAttrs>(args.attrs);
    if (x.dtype !== 'float32' && (mean || x.dtype !== 'int32')) return original(args);
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const first = axes[0];
    const last = axes[axes.length - 1];
    if (
      first === undefined ||
      last === undefined ||
      last === rank - 1 ||
      last - first + 1 !== axes.length ||
      util.sizeFromShape(x.shape) === 0
    ) {
      return original(args);
    }
    const outer = util.sizeFromShape(x.shape.slice(0, first));
    const reduce = util.sizeFromShape(x.shape.slice(first, last + 1));
    const inner = util.sizeFromShape(x.shape.slice(last + 1));
    let outShape = x.shape.filter((_, i) => i < first || i > last);
    if (keepDims) outShape = backend_util.expandShapeToKeepDim(outShape, axes);
    const b = args.backend as WasmBackendLike;
    if (x.dtype === 'float32' && reduce > 1) {
      // XNNPACK average pooling over an [R, 1] window of x seen as [outer, R, 1, inner].
      const s = new WasmScope(b);
      try {
        const pooled = s.run(
          'AvgPool',
          { x: s.reshape(x, [outer, reduce, 1, inner]) },
          { filterSize: [reduce, 1], strides: 1, pad: 'valid' },
        );
        if (!mean) {
          const v = heap(b, pooled);
          for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * reduce;
        }
        return s.keep(s.reshape(pooled, outShape));
      } finally {
        s.dispose();
      }
    }
    const out = b.makeOutput(outShape, mean ? 'float32' : x.dtype);
    const ov = heap(b, out);
    const xv = heap(b, x);
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let r = 0; r < reduce; r++) {
        const base = (o * reduce + r) * inner;
        for (let i = 0; i < inner; i++) acc[i] = (acc[i] as number) + (xv[base + i] as number);
      }
      const ob = o * inner;
      for (let i = 0; i < inner; i++)
        ov[ob + i] = mean ? (acc[i] as number) / reduce : (acc[i] as number);
    }
    return out;
  };
}
