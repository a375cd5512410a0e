import {
  type KernelFunc,
  type TensorInfo,
  type UnsortedSegmentSumAttrs,
  util,
} from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import type { WasmBackendLike } from './scope.js';

/**
 * `UnsortedSegmentSum` for wasm (the gradient of `gather`, e.g. of an embedding): out[s] = Σ x[i]
 * over the rows i with segmentIds[i] = s; ids outside [0, numSegments) are dropped, as in
 * TensorFlow. A single pass over the wasm heap; exact for int32.
 */
export const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = kernelAttrs<UnsortedSegmentSumAttrs>(attrs);
  const b = backend as WasmBackendLike;
  const rows = util.sizeFromShape(segmentIds.shape);
  const inner = rows === 0 ? 0 : util.sizeFromShape(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = b.makeOutput(outShape, x.dtype);
  // Views are taken after the allocation: growing the wasm heap detaches older views.
  const outVals = b.typedArrayFromHeap(out);
  const xVals = b.typedArrayFromHeap(x);
  const ids = b.typedArrayFromHeap(segmentIds);
  outVals.fill(0);
  for (let r = 0; r < rows; r++) {
    const seg = ids[r] ?? -1;
    if (seg < 0 || seg >= numSegments) continue;
    const src = r * inner;
    const dst = seg * inner;
    for (let k = 0; k < inner; k++) {
      outVals[dst + k] = (outVals[dst + k] ?? 0) + (xVals[src + k] ?? 0);
    }
  }
  return out;
};
