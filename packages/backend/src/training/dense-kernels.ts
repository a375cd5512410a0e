import type { GradConfig, KernelFunc, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { kernelAttrs } from '../kernel-attrs.js';
import { fusedPathInEffect } from './in-effect.js';
import { DENSE, type DenseAttrs, RELU_GRAD } from './kernel-names.js';

/** The forward kernel from tfjs ops, for any backend (one matrix product on rank-2 operands). */
export const compositeDense: KernelFunc = ({ inputs, attrs }) => {
  const { x, kernel, bias } = inputs as { x: Tensor; kernel: Tensor; bias?: Tensor };
  const { activation } = kernelAttrs<DenseAttrs>(attrs);
  return tf.tidy(() => {
    let y = tf.matMul(x, kernel);
    if (bias !== undefined) y = tf.add(y, bias);
    return activation === 'relu' ? tf.relu(y) : y;
  });
};

/** `dy · (y > 0)` for y = relu(z), TensorFlow's `ReluGrad` where the backend has it. */
function reluGradFromOutput(dy: Tensor, y: Tensor): Tensor {
  if (fusedPathInEffect('reluGrad')) {
    return tf.engine().runKernel(RELU_GRAD, { dy, x: y }) as Tensor;
  }
  return tf.mul(dy, tf.step(y));
}

/**
 * The gradient of {@link DENSE}: `dz = dy` (or `dy · (y > 0)` after a ReLU), `dx = dz·kernelᵀ`,
 * `dKernel = xᵀ·dz`, `dBias = Σ_batch dz`: rank-2 products with no reshapes, each computed only
 * when the engine asks for it. The first layer's `dx`, which no variable needs, is never
 * computed (tfjs's fused `matMul` gradient computes both products every time).
 */
export const denseGradConfig: GradConfig = {
  kernelName: DENSE,
  inputsToSave: ['x', 'kernel'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, kernel, y] = saved as [Tensor, Tensor, Tensor];
    const { activation } = kernelAttrs<DenseAttrs>(attrs);
    // Computed here, not in a thunk: the engine runs each thunk in its own tidy.
    const dz = activation === 'relu' ? reluGradFromOutput(dy as Tensor, y) : (dy as Tensor);
    return {
      x: () => tf.matMul(dz, kernel, false, true),
      kernel: () => tf.matMul(x, dz, true, false),
      bias: () => tf.sum(dz, 0),
    };
  },
};
