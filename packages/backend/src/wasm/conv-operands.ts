import { InvalidArgumentError } from '@onerun/core';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { type Pads4, type WasmBackendLike, WasmScope } from './scope.js';

// Operand geometry shared by the convolution gradients in conv-backprop.ts: padding, cropping,
// zero-dilation and the transposed convolution they are built from.

export type Pair = [number, number];
export type ConvInfo = ReturnType<typeof backend_util.computeConv2DInfo>;

export function requireChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new InvalidArgumentError(
      `${kernel} dataFormat (@onerun/backend wasm)`,
      dataFormat,
      "'NHWC' (channelsLast), the only layout the wasm training kernels support",
    );
  }
}

function explicit(top: number, bottom: number, left: number, right: number): Pads4 {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * Applies signed padding to the two spatial axes of an NHWC tensor: positive amounts become
 * convolution padding, negative ones crop the tensor first (XNNPACK takes no negative padding).
 */
export function padOrCrop(
  s: WasmScope,
  x: TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): { x: TensorInfo; pad: Pads4 } {
  const [n = 0, h = 0, w = 0, c = 0] = x.shape;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  let out = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    out = s.stridedSlice(
      x,
      [0, cropTop, cropLeft, 0],
      [n, h - cropBottom, w - cropRight, c],
      [1, 1, 1, 1],
    );
  }
  return {
    x: out,
    pad: explicit(Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)),
  };
}

/**
 * Padding the forward pass would have needed at the bottom/right to touch exactly the input rows
 * and columns it used: negative when trailing rows were never read (crop them).
 */
export function trailingPad(info: ConvInfo): Pair {
  const bottom =
    (info.outHeight - 1) * info.strideHeight +
    (info.filterHeight - 1) * info.dilationHeight +
    1 -
    info.inHeight -
    info.padInfo.top;
  const right =
    (info.outWidth - 1) * info.strideWidth +
    (info.filterWidth - 1) * info.dilationWidth +
    1 -
    info.inWidth -
    info.padInfo.left;
  return [bottom, right];
}

/** Inserts `stride - 1` zeros after every row / column of `dy` (NHWC), as a transposed conv needs. */
function dilateSpatially(s: WasmScope, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return dy;
  const [n = 0, h = 0, w = 0, c = 0] = dy.shape;
  const r = s.reshape(dy, [n, h, 1, w, 1, c]);
  const p = s.pad(r, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return s.reshape(p, [n, h * sh, w * sw, c]);
}

/**
 * dx of a convolution as a stride-1 convolution of the zero-dilated `dy` with the spatially
 * flipped filter (`flipped` already laid out for `conv`).
 */
export function transposedConv(
  s: WasmScope,
  dy: TensorInfo,
  flipped: TensorInfo,
  info: ConvInfo,
  conv: (x: TensorInfo, f: TensorInfo, pad: Pads4) => TensorInfo,
): TensorInfo {
  const dyD = dilateSpatially(s, dy, info.strideHeight, info.strideWidth);
  const hd = dyD.shape[1] ?? 0;
  const wd = dyD.shape[2] ?? 0;
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight + info.effectiveFilterHeight - 1 - hd - top;
  const right = info.inWidth + info.effectiveFilterWidth - 1 - wd - left;
  const { x, pad } = padOrCrop(s, dyD, top, bottom, left, right);
  return conv(x, flipped, pad);
}

function pairOf(v: number | number[] | undefined): Pair {
  if (v === undefined) return [1, 1];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? 1, v[1] ?? v[0] ?? 1];
}

/** Reads an optional `dilations` attribute (tfjs's own Conv2D gradient never sets it). */
export function dilationsOf(attrs: object): number | Pair {
  const d = (attrs as { dilations?: number | number[] }).dilations;
  return pairOf(d);
}

export function withScope(backend: unknown, body: (s: WasmScope) => TensorInfo): TensorInfo {
  const s = new WasmScope(backend as WasmBackendLike);
  try {
    return s.keep(body(s));
  } finally {
    s.dispose();
  }
}
