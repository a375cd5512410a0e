import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { fusedPathInEffect } from './in-effect.js';
import { RELU_GRAD } from './kernel-names.js';

const OVERRIDE = Symbol.for('@onerun/backend/fused-relu-grad');

/** Our `Relu` gradient: marked, and holding the config it replaced. */
type Override = GradConfig & { [OVERRIDE]?: true; stock?: GradConfig };

/**
 * Replaces tfjs-core's gradient of `Relu` (registered for all backends) with one that runs
 * {@link RELU_GRAD} when the active backend has that kernel and the `reluGrad` flag is on, and
 * tfjs-core's own gradient otherwise. The two differ only where x is NaN (tfjs: NaN; fused: 0).
 * Idempotent.
 */
export function overrideReluGradient(): void {
  const stock = tf.getGradient('Relu') as Override | undefined;
  if (stock === undefined || stock[OVERRIDE]) return;
  const config: Override = {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [Tensor];
      if (x.dtype !== 'float32' || !fusedPathInEffect('reluGrad'))
        return stock.gradFunc(dy, saved, attrs as NamedAttrMap);
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: dy as Tensor, x }) as Tensor };
    },
    [OVERRIDE]: true,
    stock,
  };
  tf.unregisterGradient('Relu');
  tf.registerGradient(config);
}

/**
 * Undoes {@link overrideReluGradient}: tfjs-core's own `Relu` gradient (the very config it had)
 * again. Returns whether it was overridden.
 */
export function restoreReluGradient(): boolean {
  const current = tf.getGradient('Relu') as Override | undefined;
  if (current?.[OVERRIDE] !== true || current.stock === undefined) return false;
  tf.unregisterGradient('Relu');
  tf.registerGradient(current.stock);
  return true;
}
