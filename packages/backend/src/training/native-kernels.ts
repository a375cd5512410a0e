import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import type { BatchNormTrainingAttrs, CrossEntropyAttrs, DenseAttrs } from './kernel-names.js';

/** One TensorFlow op attribute, as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/**
 * The members of tfjs-node's `NodeJSKernelBackend` these kernels use: it runs any TensorFlow op
 * by name with attributes. Named here rather than imported, since tfjs-node is the
 * application's (optional) dependency, not this package's.
 */
interface NativeBackendLike {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_FLOAT: number;
    TF_INT32: number;
    TF_BOOL: number;
  };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: TensorInfo[]): Tensor;
  executeMultipleOutputs(
    name: string,
    attrs: OpAttr[],
    inputs: TensorInfo[],
    numOutputs: number,
  ): Tensor[];
  isUsingGpuDevice?: boolean;
}

/** A type attribute (`T`, `Tidx`…): float32 unless another of the binding's dtypes is given. */
function typeAttr(b: NativeBackendLike, name: string, dtype = b.binding.TF_FLOAT): OpAttr {
  return { name, type: b.binding.TF_ATTR_TYPE, value: dtype };
}

function boolAttr(b: NativeBackendLike, name: string, value: boolean): OpAttr {
  return { name, type: b.binding.TF_ATTR_BOOL, value };
}

function batchNormAttrs(b: NativeBackendLike, epsilon: number): OpAttr[] {
  return [
    typeAttr(b, 'T'),
    typeAttr(b, 'U'),
    { name: 'epsilon', type: b.binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' },
    boolAttr(b, 'is_training', true),
  ];
}

/** Any channels-last tensor as the NHWC batch TensorFlow's fused batch norm takes. */
function asNhwc(x: Tensor): Tensor {
  if (x.rank === 4) return x;
  const channels = x.shape.at(-1) ?? 1;
  return tf.reshape(x, [x.size / channels, 1, 1, channels]);
}

/**
 * Batch norm forward in training mode on the native backend: one `FusedBatchNormV3`. On the CPU
 * its `reserve_space_1/2` outputs are the batch mean and the biased variance (the third output
 * is the Bessel-corrected variance, which Keras-style moving averages do not use).
 */
export const nativeBatchNormTraining: KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as NativeBackendLike;
  const { x, scale, offset } = inputs as { x: Tensor; scale: Tensor; offset: Tensor };
  const { epsilon } = kernelAttrs<BatchNormTrainingAttrs>(attrs);
  const x4 = asNhwc(x);
  const empty = tf.tensor1d([], 'float32');
  const outs = b.executeMultipleOutputs(
    'FusedBatchNormV3',
    [
      ...batchNormAttrs(b, epsilon),
      { name: 'exponential_avg_factor', type: b.binding.TF_ATTR_FLOAT, value: 1 },
    ],
    [x4, scale, offset, empty, empty],
    6,
  );
  const [y4, batchMean, batchVariance, mean, variance, reserve] = outs as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  tf.dispose([empty, batchMean, batchVariance, reserve]);
  if (x4 === x) return [y4, mean, variance];
  const y = tf.reshape(y4, x.shape);
  tf.dispose([x4, y4]);
  return [y, mean, variance];
};

/** Its gradient: one `FusedBatchNormGradV2` (training mode) from the saved mean and variance. */
export const nativeBatchNormTrainingGrad: KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as NativeBackendLike;
  const { dy, x, scale, mean, variance } = inputs as Record<string, Tensor>;
  const { epsilon } = kernelAttrs<BatchNormTrainingAttrs>(attrs);
  const dy4 = asNhwc(dy as Tensor);
  const x4 = asNhwc(x as Tensor);
  const outs = b.executeMultipleOutputs(
    'FusedBatchNormGradV2',
    batchNormAttrs(b, epsilon),
    [dy4, x4, scale as Tensor, mean as Tensor, variance as Tensor],
    5,
  );
  const [dx4, dScale, dOffset, r3, r4] = outs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  tf.dispose([r3, r4]);
  if (x4 === x) return [dx4, dScale, dOffset];
  const dx = tf.reshape(dx4, (x as Tensor).shape);
  tf.dispose([dy4, x4, dx4]);
  return [dx, dScale, dOffset];
};

/** `dy · (x > 0)` as TensorFlow's `ReluGrad`: one op where tfjs runs cast, step and multiply. */
export const nativeReluGrad: KernelFunc = ({ inputs, backend }) => {
  const b = backend as NativeBackendLike;
  const { dy, x } = inputs as { dy: Tensor; x: Tensor };
  return b.executeSingleOutput('ReluGrad', [typeAttr(b, 'T')], [dy, x]);
};

/** A dense layer's forward as TensorFlow's `MatMul`, `BiasAdd` and `Relu` (see `DENSE`). */
export const nativeDense: KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as NativeBackendLike;
  const { x, kernel, bias } = inputs as { x: Tensor; kernel: Tensor; bias?: Tensor };
  const { activation } = kernelAttrs<DenseAttrs>(attrs);
  const t = typeAttr(b, 'T');
  return tf.tidy(() => {
    const product = [t, boolAttr(b, 'transpose_a', false), boolAttr(b, 'transpose_b', false)];
    let y = b.executeSingleOutput('MatMul', product, [x, kernel]);
    if (bias !== undefined) {
      const nhwc = { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' };
      y = b.executeSingleOutput('BiasAdd', [t, nhwc], [y, bias]);
    }
    return activation === 'relu' ? b.executeSingleOutput('Relu', [t], [y]) : y;
  });
};

/** TensorFlow ops on float32 tensors through the binding, for the kernels below. */
function floatOps(b: NativeBackendLike) {
  const t = [typeAttr(b, 'T')];
  const op = (name: string, ...inputs: Tensor[]) => b.executeSingleOutput(name, t, inputs);
  /** Σ over the last axis. */
  const sumLast = (x: Tensor, keepDims: boolean) => {
    const axis = tf.scalar(x.rank - 1, 'int32');
    const attrs = [
      ...t,
      typeAttr(b, 'Tidx', b.binding.TF_INT32),
      boolAttr(b, 'keep_dims', keepDims),
    ];
    const y = b.executeSingleOutput('Sum', attrs, [x, axis]);
    axis.dispose();
    return y;
  };
  /** `clip(p/Σp, ε, 1 − ε)`, `p/Σp` and `Σp` over the last axis (as tfjs-layers computes them). */
  const clipped = (probs: Tensor, epsilon: number) => {
    const total = sumLast(probs, true);
    const q = op('RealDiv', probs, total);
    const c = op('ClipByValue', q, tf.scalar(epsilon), tf.scalar(1 - epsilon));
    return { total, q, c };
  };
  return { op, sumLast, clipped };
}

/** Categorical cross-entropy per example (see `CATEGORICAL_CROSSENTROPY`) as TensorFlow ops. */
export const nativeCrossEntropy: KernelFunc = ({ inputs, attrs, backend }) => {
  const { target, probs } = inputs as { target: Tensor; probs: Tensor };
  const { epsilon } = kernelAttrs<CrossEntropyAttrs>(attrs);
  const { op, sumLast, clipped } = floatOps(backend as NativeBackendLike);
  return tf.tidy(() =>
    op('Neg', sumLast(op('Mul', target, op('Log', clipped(probs, epsilon).c)), false)),
  );
};

/** Its gradient with respect to the probabilities (see `compositeCrossEntropyGrad`). */
export const nativeCrossEntropyGrad: KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as NativeBackendLike;
  const { dy, target, probs } = inputs as { dy: Tensor; target: Tensor; probs: Tensor };
  const { epsilon } = kernelAttrs<CrossEntropyAttrs>(attrs);
  const { op, sumLast, clipped } = floatOps(b);
  return tf.tidy(() => {
    const { total, q, c } = clipped(probs, epsilon);
    const inside = b.executeSingleOutput(
      'Cast',
      [typeAttr(b, 'SrcT', b.binding.TF_BOOL), typeAttr(b, 'DstT')],
      [op('Equal', c, q)],
    );
    const dyColumn = b.executeSingleOutput(
      'ExpandDims',
      [typeAttr(b, 'T'), typeAttr(b, 'Tdim', b.binding.TF_INT32)],
      [dy, tf.scalar(-1, 'int32')],
    );
    const h = op('Mul', op('Mul', op('RealDiv', target, c), dyColumn), inside);
    return op('RealDiv', op('Sub', sumLast(op('Mul', h, q), true), h), total);
  });
};
