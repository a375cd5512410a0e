import {
  type DataId,
  type DataType,
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
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
      throw new Error(`@onerun/backend: kernel '${name}' is not registered for backend 'wasm'.`);
    }
    const kernelFunc: KernelFunc = config.kernelFunc;
    const out = kernelFunc({
      inputs: inputs as NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as NamedAttrMap,
    });
    if (Array.isArray(out)) {
      throw new Error(`@onerun/backend: kernel '${name}' returned several outputs; expected one.`);
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

  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run(
      'StridedSlice',
      { x },
      {
        begin,
        end,
        strides,
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      },
    );
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: Pads4,
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides, pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined },
    );
  }

  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: Pads4,
  ): TensorInfo {
    return this.run(
      'DepthwiseConv2dNative',
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
