import { UnsupportedEnvironmentError } from '@onerun/core';
import {
  type DataId,
  type DataType,
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';

/**
 * The members of tfjs-backend-wasm's `BackendWasm` that the training kernels use. Kernels get
 * the backend untyped (`{}`); this names what they rely on without importing the wasm package's
 * classes (the engine and registry are global, so this package's copy may differ from the app's).
 */
export interface WasmBackendLike {
  disposeData(dataId: DataId, force?: boolean): boolean;
  incRef(dataId: DataId): void;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  numDataIds(): number;
}

/** Explicit NHWC padding as the wasm Conv2D kernel takes it: `[[0,0],[top,bottom],[left,right],[0,0]]`. */
export type Pads4 = [[0, 0], [number, number], [number, number], [0, 0]];

/**
 * Runs other wasm kernels from inside a kernel, the way tfjs-backend-wasm's own kernels call
 * each other: straight through their `kernelFunc`, so no engine tensors are created and nothing
 * is recorded on a gradient tape. Every output is owned by the scope and freed (its backend
 * data, refcounted) by `dispose`, except the one handed out by `keep`.
 */
export class WasmScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  /** Runs the registered wasm kernel `name`; the output is owned by this scope. */
  run(name: string, inputs: NamedTensorInfoMap | TensorInfo[], attrs: object = {}): TensorInfo {
    const config = getKernel(name, 'wasm');
    if (config === undefined) {
      throw new UnsupportedEnvironmentError(
        `@onerun/backend: kernel '${name}' is not registered for backend 'wasm'`,
        "@tensorflow/tfjs-backend-wasm 4.22's kernels loaded before the training kernels run",
      );
    }
    const kernelFunc: KernelFunc = config.kernelFunc;
    const out = kernelFunc({
      inputs: inputs as NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as NamedAttrMap,
    });
    if (Array.isArray(out)) {
      throw new UnsupportedEnvironmentError(
        `@onerun/backend: wasm kernel '${name}' returned several outputs`,
        'one output, as in @tensorflow/tfjs-backend-wasm 4.22',
      );
    }
    this.owned.push(out);
    return out;
  }

  /** A fresh uninitialised output owned by this scope. */
  output(shape: number[], dtype: DataType): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.push(out);
    return out;
  }

  /** Removes `info` from the scope, so `dispose` leaves it alive (the kernel's result). */
  keep(info: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(info);
    if (i >= 0) {
      this.owned.splice(i, 1);
    } else {
      // An input passed through unchanged: the result needs its own reference.
      this.backend.incRef(info.dataId);
    }
    return info;
  }

  /**
   * Runs `body` in a nested scope whose intermediates are freed as soon as it returns (bounding
   * peak memory in loops); its result becomes owned by this scope.
   */
  nested(body: (s: WasmScope) => TensorInfo): TensorInfo {
    const inner = new WasmScope(this.backend);
    try {
      const out = inner.keep(body(inner));
      this.owned.push(out);
      return out;
    } finally {
      inner.dispose();
    }
  }

  dispose(): void {
    for (const info of this.owned.splice(0)) this.backend.disposeData(info.dataId);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  pad(x: TensorInfo, paddings: [number, number][]): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * A (strided) slice copied straight from the wasm heap. wasm's own Slice/StridedSlice with unit
   * strides read the whole input back to JS first (`readSync`), a full copy per call.
   */
  slice(x: TensorInfo, begin: number[], size: number[], strides?: number[]): TensorInfo {
    const out = this.output(size, x.dtype);
    if (util.sizeFromShape(size) === 0) return out;
    // Merge trailing axes that are taken whole into one contiguous run.
    const shape = x.shape.slice();
    const b = begin.slice();
    const z = size.slice();
    const st = strides?.slice() ?? shape.map(() => 1);
    while (z.length > 1) {
      const last = z.length - 1;
      const full = b[last] === 0 && z[last] === shape[last] && st[last] === 1;
      if (!full || st[last - 1] !== 1) break;
      const inner = shape[last] as number;
      shape.splice(last - 1, 2, (shape[last - 1] as number) * inner);
      b.splice(last - 1, 2, (b[last - 1] as number) * inner);
      z.splice(last - 1, 2, (z[last - 1] as number) * inner);
      st.splice(last - 1, 1);
    }
    const rank = shape.length;
    const xStrides = [...util.computeStrides(shape), 1];
    const ov = this.backend.typedArrayFromHeap(out);
    const xv = this.backend.typedArrayFromHeap(x);
    const run = z[rank - 1] as number;
    const runStride = st[rank - 1] as number;
    const index = new Array<number>(rank - 1).fill(0);
    let o = 0;
    for (;;) {
      let src = (b[rank - 1] as number) * (xStrides[rank - 1] as number);
      for (let d = 0; d < rank - 1; d++) {
        src +=
          ((b[d] as number) + (index[d] as number) * (st[d] as number)) * (xStrides[d] as number);
      }
      if (runStride === 1) {
        ov.set(xv.subarray(src, src + run), o);
      } else {
        for (let i = 0; i < run; i++) ov[o + i] = xv[src + i * runStride] as number;
      }
      o += run;
      let d = rank - 2;
      while (d >= 0) {
        index[d] = (index[d] as number) + 1;
        if ((index[d] as number) < (z[d] as number)) break;
        index[d] = 0;
        d--;
      }
      if (d < 0) break;
    }
    return out;
  }

  /** `x[begin:end:strides]` (positive strides), copied from the heap. */
  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    const size = begin.map((b0, i) =>
      Math.max(0, Math.ceil(((end[i] as number) - b0) / (strides[i] as number))),
    );
    return this.slice(x, begin, size, strides);
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: Pads4,
  ): TensorInfo {
    return this.convNHWC('Conv2D', x, filter, strides, dilations, pad);
  }

  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: Pads4,
  ): TensorInfo {
    return this.convNHWC('DepthwiseConv2dNative', x, filter, strides, dilations, pad);
  }

  private convNHWC(
    kernel: 'Conv2D' | 'DepthwiseConv2dNative',
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: Pads4,
  ): TensorInfo {
    return this.run(
      kernel,
      { x, filter },
      { strides, pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined },
    );
  }

  mul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('Multiply', { a, b });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  addN(list: TensorInfo[]): TensorInfo {
    return this.run('AddN', list);
  }

  concat(list: TensorInfo[], axis: number): TensorInfo {
    return this.run('Concat', list, { axis });
  }
}
