import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { fusedPathInEffect } from './in-effect.js';
import { RELU_GRAD } from './kernel-names.js';

const OVERRIDE = Symbol.for('@onerun/backend/fused-relu-grad');

/**
 * Replaces tfjs-core's gradient of `Relu` (registered for all backends) with one that runs
 * {@link RELU_GRAD} when the active backend has that kernel and the `reluGrad` flag is on, and
 * tfjs-core's own gradient otherwise. The two differ only where x is NaN (tfjs: NaN; fused: 0).
 * Idempotent.
 */
export function overrideReluGradient(): void {
  const stock = tf.getGradient('Relu') as (GradConfig & { [OVERRIDE]?: true }) | undefined;
  if (stock === undefined || stock[OVERRIDE]) return;
  const config: GradConfig & { [OVERRIDE]?: true } = {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [Tensor];
      if (x.dtype !== 'float32' || !fusedPathInEffect('reluGrad'))
        return stock.gradFunc(dy, saved, attrs as NamedAttrMap);
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: dy as Tensor, x }) as Tensor };
    },
    [OVERRIDE]: true,
  };
  tf.registerGradient(config);
}
