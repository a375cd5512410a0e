import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { onlyTensor, patchRegisteredClass, unpatchRegisteredClass } from './class-patch.js';
import { fusedPathInEffect } from './in-effect.js';
import { DENSE, DENSE_ACTIVATIONS, type DenseAttrs } from './kernel-names.js';

/** The members of tfjs-layers' `Dense` layer used here. */
interface DenseLayerLike {
  kernel: { read(): Tensor };
  bias?: { read(): Tensor } | null;
  activation?: { getClassName(): string; apply(x: Tensor): Tensor } | null;
  invokeCallHook(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): void;
}

type Call = (
  this: DenseLayerLike,
  inputs: Tensor | Tensor[],
  kwargs: Record<string, unknown>,
) => Tensor;

const PATCHED = Symbol.for('@onerun/backend/fused-dense-call');

/** Whether this call can take the fused kernel; otherwise the stock call runs. */
function fusable(x: Tensor | undefined, kernel: Tensor): x is Tensor {
  if (x === undefined || x.dtype !== 'float32' || x.rank !== 2 || kernel.rank !== 2) return false;
  return fusedPathInEffect('dense');
}

/**
 * Routes the call of every tfjs-layers `Dense` layer on a rank-2 float32 input — in training and
 * in inference (`predict`, `execute`: one kernel instead of tfjs's reshapes around a batched
 * product) — through {@link DENSE} on backends that have that kernel, while the `dense` flag is
 * on: ReLU and linear activations inside the kernel, any other (softmax…) applied after it by the
 * layer's own activation, as tfjs-layers does. Everything else runs tfjs-layers' own code.
 * Idempotent; returns false if tfjs-layers has not registered the layer (not loaded yet).
 */
export function patchDenseLayer(): boolean {
  return patchRegisteredClass<Call>(
    'Dense',
    'call',
    PATCHED,
    (stock) =>
      function (this: DenseLayerLike, inputs, kwargs) {
        const x = onlyTensor(inputs);
        if (!fusable(x, this.kernel.read())) {
          return stock.call(this, inputs, kwargs);
        }
        return tf.tidy(() => {
          this.invokeCallHook(inputs, kwargs);
          const name = this.activation?.getClassName() ?? 'linear';
          const inside = (DENSE_ACTIVATIONS as readonly string[]).includes(name);
          const attrs: DenseAttrs = {
            activation: inside ? (name as DenseAttrs['activation']) : 'linear',
          };
          const operands: Record<string, Tensor> = { x, kernel: this.kernel.read() };
          if (this.bias) operands.bias = this.bias.read();
          const y = tf.engine().runKernel(DENSE, operands, attrs) as Tensor;
          return inside || this.activation == null ? y : this.activation.apply(y);
        });
      },
  );
}

/** Undoes {@link patchDenseLayer}: tfjs-layers' own `Dense.call` again. Returns whether it was patched. */
export function unpatchDenseLayer(): boolean {
  return unpatchRegisteredClass('Dense', 'call', PATCHED);
}
