import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import {
  type ConvInfo,
  dilationsOf,
  type Pair,
  padOrCrop,
  requireChannelsLast,
  trailingPad,
  transposedConv,
  withScope,
} from './conv-operands.js';
import type { Pads4, WasmScope } from './scope.js';

// Both gradients of a convolution are convolutions themselves. They are rewritten here as calls
// of wasm's own XNNPACK-backed Conv2D / DepthwiseConv2dNative on transposed, flipped or
// zero-dilated operands, so that training runs close to the speed of the forward pass. (An
// im2col + matMul form was measured too: its product alone was no faster than this convolution,
// before paying for a patch matrix kh·kw times the size of x.)

/**
 * Examples per XNNPACK call in Conv2DBackpropFilter (see there): measured on the reference CNN,
 * 16–32 beat both smaller chunks (short inner loops) and the whole batch (cache misses).
 */
const EXAMPLES_PER_CHUNK = 32;

/**
 * Conv2DBackpropFilter for few input channels (an image's first layer): the transposed patch
 * matrix [kh·kw·ci, positions] is only kh·kw·ci rows, each a strided window of x copied from the
 * heap, and dW = patchesᵀ · dy is a single XNNPACK product. The convolution form would spend more
 * time packing dy as its filter than computing.
 */
function im2colFilterGrad(s: WasmScope, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const [bottom, right] = trailingPad(info);
  const { top, left } = info.padInfo;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const parts: TensorInfo[] = [];
  // Chunks of examples bound the patch matrix (kh·kw times the chunk of x).
  for (let b0 = 0; b0 < n; b0 += EXAMPLES_PER_CHUNK) {
    const bc = Math.min(EXAMPLES_PER_CHUNK, n - b0);
    parts.push(
      s.nested((t) => {
        const xb = bc === n ? x : t.slice(x, [b0, 0, 0, 0], [bc, h, w, ci]);
        const dyb = bc === n ? dy : t.slice(dy, [b0, 0, 0, 0], [bc, oh, ow, co]);
        const xp =
          top > 0 || left > 0 || bottom > 0 || right > 0
            ? t.pad(xb, [
                [0, 0],
                [top, Math.max(0, bottom)],
                [left, Math.max(0, right)],
                [0, 0],
              ])
            : xb;
        // Channel planes [ci, bc, H, W], so that every window row is a run of contiguous pixels.
        const planes =
          ci === 1 ? t.reshape(xp, [1, ...xp.shape.slice(0, 3)]) : t.transpose(xp, [3, 0, 1, 2]);
        const rows: TensorInfo[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            for (let c = 0; c < ci; c++) {
              const r0 = i * info.dilationHeight;
              const c0 = j * info.dilationWidth;
              const window = t.stridedSlice(
                planes,
                [c, 0, r0, c0],
                [
                  c + 1,
                  bc,
                  r0 + (oh - 1) * info.strideHeight + 1,
                  c0 + (ow - 1) * info.strideWidth + 1,
                ],
                [1, 1, info.strideHeight, info.strideWidth],
              );
              rows.push(t.reshape(window, [1, bc * oh * ow]));
            }
          }
        }
        const patchesT = rows.length === 1 ? (rows[0] as TensorInfo) : t.concat(rows, 0);
        return t.run(
          'BatchMatMul',
          { a: patchesT, b: t.reshape(dyb, [bc * oh * ow, co]) },
          { transposeA: false, transposeB: false },
        );
      }),
    );
  }
  const product = parts.length === 1 ? (parts[0] as TensorInfo) : s.addN(parts);
  return s.reshape(product, [kh, kw, ci, co]);
}

/**
 * Up to this many input channels Conv2DBackpropFilter uses {@link im2colFilterGrad}: measured at
 * batch 128, 3×3, it beats the convolution form for 1–4 channels and loses at 8.
 */
const SMALL_IN_CHANNELS = 4;

/**
 * `Conv2DBackpropFilter` for wasm: dW[i,j,ci,co] = Σ_b,p,q x[b, p·s+i·d−pad, q·s+j·d−pad, ci]·dy[b,p,q,co]
 * is a convolution of x with channels and batch swapped ([ci,H,W,B]) by dy laid out as a filter
 * ([oh,ow,B,co]) with the forward stride as dilation and the forward dilation as stride.
 */
export const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = kernelAttrs<Conv2DBackpropFilterAttrs>(attrs);
  requireChannelsLast('Conv2DBackpropFilter', a.dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    dilationsOf(a),
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.inChannels <= SMALL_IN_CHANNELS)
    return withScope(backend, (s) => im2colFilterGrad(s, x, dy, info));
  return withScope(backend, (s) => {
    const [bottom, right] = trailingPad(info);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
    const { outHeight: oh, outWidth: ow } = info;
    // The product contracts over every (example, row, column): K is huge while M = ci·kh·kw and
    // N = co are small, so XNNPACK streams all of the packed dy once per tile of M. Chunks of
    // examples keep each call's operands in cache; the partial filters are summed.
    const per = Math.max(1, Math.min(n, EXAMPLES_PER_CHUNK));
    const parts: TensorInfo[] = [];
    for (let b0 = 0; b0 < n; b0 += per) {
      const bc = Math.min(per, n - b0);
      const xb = bc === n ? x : s.slice(x, [b0, 0, 0, 0], [bc, h, w, ci]);
      const dyb = bc === n ? dy : s.slice(dy, [b0, 0, 0, 0], [bc, oh, ow, co]);
      // [bc,H,W,ci] -> [ci,H,W,bc] as a 2-D transpose plus a move of contiguous blocks: both
      // much faster than wasm's element-wise 4-D transpose.
      let xT = s.transpose(s.reshape(xb, [bc, h * w * ci]), [1, 0]);
      if (ci > 1) xT = s.transpose(s.reshape(xT, [h * w, ci, bc]), [1, 0, 2]);
      xT = s.reshape(xT, [ci, h, w, bc]);
      const dyT = s.transpose(dyb, [1, 2, 0, 3]);
      const { x: xc, pad } = padOrCrop(s, xT, info.padInfo.top, bottom, info.padInfo.left, right);
      parts.push(
        s.conv2d(
          xc,
          dyT,
          [info.dilationHeight, info.dilationWidth],
          [info.strideHeight, info.strideWidth],
          pad,
        ),
      );
    }
    const out = parts.length === 1 ? (parts[0] as TensorInfo) : s.addN(parts);
    return s.transpose(out, [1, 2, 0, 3]);
  });
};

/**
 * `Conv2DBackpropInput` for wasm: a transposed convolution, computed as a stride-1 Conv2D of the
 * zero-dilated dy by the flipped filter with its channel axes swapped.
 */
export const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = kernelAttrs<Conv2DBackpropInputAttrs>(attrs);
  requireChannelsLast('Conv2DBackpropInput', a.dataFormat);
  const info = backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as [number, number, number, number],
    a.strides,
    dilationsOf(a),
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  return withScope(backend, (s) => {
    const flipped = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const dilations: Pair = [info.dilationHeight, info.dilationWidth];
    if (info.inChannels === 1) {
      // A single output channel would make a GEMM with one useful column of eight; per-channel
      // (depthwise) products summed over the channels do the same FLOPs at memory speed.
      return transposedConv(s, dy, flipped, info, (xx, f, pad) =>
        s.run(
          'Sum',
          { x: s.depthwiseConv2d(xx, f, [1, 1], dilations, pad) },
          { axis: [3], keepDims: true },
        ),
      );
    }
    return transposedConv(s, dy, flipped, info, (xx, f, pad) =>
      s.conv2d(xx, f, [1, 1], dilations, pad),
    );
  });
};

/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm: per channel multiplier m, a depthwise transposed
 * convolution of dy's channels c·M+m by the flipped filter slice [:,:,:,m]; the results are summed.
 */
export const depthwiseConv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = kernelAttrs<DepthwiseConv2dNativeBackpropInputAttrs>(attrs);
  const info = backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
    'channelsLast',
  );
  const [kh = 0, kw = 0, channels = 0, multiplier = 1] = filter.shape;
  return withScope(backend, (s) => {
    const flipped = s.reverse(filter, [0, 1]);
    const dilations: Pair = [info.dilationHeight, info.dilationWidth];
    const conv = (xx: TensorInfo, f: TensorInfo, pad: Pads4) =>
      s.depthwiseConv2d(xx, f, [1, 1], dilations, pad);
    if (multiplier === 1) return transposedConv(s, dy, flipped, info, conv);
    const [n = 0, oh = 0, ow = 0] = dy.shape;
    const parts: TensorInfo[] = [];
    for (let m = 0; m < multiplier; m++) {
      const dyM = s.stridedSlice(
        dy,
        [0, 0, 0, m],
        [n, oh, ow, channels * multiplier],
        [1, 1, 1, multiplier],
      );
      const fM = s.stridedSlice(flipped, [0, 0, 0, m], [kh, kw, channels, m + 1], [1, 1, 1, 1]);
      parts.push(transposedConv(s, dyM, fM, info, conv));
    }
    return s.addN(parts);
  });
};

/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm: for every filter tap, the strided window of
 * the padded input times dy, summed over batch and positions (Multiply + Sum on XNNPACK).
 */
export const depthwiseConv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = kernelAttrs<DepthwiseConv2dNativeBackpropFilterAttrs>(attrs);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
    'channelsLast',
  );
  const [kh, kw, channels, multiplier] = a.filterShape;
  return withScope(backend, (s) => {
    const [bottom, right] = trailingPad(info);
    const { top, left } = info.padInfo;
    let xp = x;
    if (top > 0 || left > 0 || bottom > 0 || right > 0) {
      xp = s.pad(x, [
        [0, 0],
        [top, Math.max(0, bottom)],
        [left, Math.max(0, right)],
        [0, 0],
      ]);
    }
    const n = info.batchSize;
    const positions = n * info.outHeight * info.outWidth;
    const dyR = s.reshape(dy, [positions, channels, multiplier]);
    const taps: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const r0 = i * info.dilationHeight;
        const c0 = j * info.dilationWidth;
        const window = s.stridedSlice(
          xp,
          [0, r0, c0, 0],
          [
            n,
            r0 + (info.outHeight - 1) * info.strideHeight + 1,
            c0 + (info.outWidth - 1) * info.strideWidth + 1,
            channels,
          ],
          [1, info.strideHeight, info.strideWidth, 1],
        );
        const prod = s.mul(s.reshape(window, [positions, channels, 1]), dyR);
        taps.push(s.reshape(s.sum(prod, [0]), [1, channels * multiplier]));
      }
    }
    return s.reshape(s.concat(taps, 0), [kh, kw, channels, multiplier]);
  });
};
