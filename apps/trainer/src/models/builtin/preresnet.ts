import type * as tfjs from '@tensorflow/tfjs';
import type { CreateModelArgs } from '../factory.js';
import { heNormalPerLayer } from './seeded-initializers.js';

/** Depth of `preresnet` when none is named (`preresnet20`). */
export const DEFAULT_PRERESNET_DEPTH = 20;

/** Whether `depth` is a pre-activation ResNet depth of basic blocks: 6n + 2 with n ≥ 1. */
export function isPreResNetDepth(depth: number): boolean {
  return Number.isInteger(depth) && depth >= 8 && (depth - 2) % 6 === 0;
}

/**
 * Pre-activation ResNet for CIFAR-sized images (He et al. 2016, "Identity Mappings in Deep
 * Residual Networks"; the family the SWA and FGE papers train): conv 3×3 16, three stages of
 * n = (depth − 2)/6 basic blocks [BN → ReLU → conv 3×3 → BN → ReLU → conv 3×3] + shortcut with
 * 16, 32, 64 filters (stride 2 and a 1×1 projection shortcut at the start of stages 2 and 3),
 * then BN → ReLU → global average pooling → dense softmax. Made for 32×32×3 inputs; any
 * `[h, w, c]` works.
 */
export function preResNet(depth: number) {
  return ({ tf, inputShape, classes, seed }: CreateModelArgs): tfjs.LayersModel => {
    const n = (depth - 2) / 6;
    const init = heNormalPerLayer(tf, seed);
    const conv = (
      x: tfjs.SymbolicTensor,
      filters: number,
      kernelSize: number,
      strides: number,
      name: string,
    ) =>
      tf.layers
        .conv2d({
          filters,
          kernelSize,
          strides,
          padding: 'same',
          useBias: false,
          kernelInitializer: init(),
          name,
        })
        .apply(x) as tfjs.SymbolicTensor;
    const bnRelu = (x: tfjs.SymbolicTensor, name: string) =>
      tf.layers
        .reLU({ name: `${name}_relu` })
        .apply(
          tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }).apply(x),
        ) as tfjs.SymbolicTensor;
    const input = tf.input({ shape: inputShape, name: 'input' });
    let x = conv(input, 16, 3, 1, 'conv0');
    for (const [stage, filters] of [16, 32, 64].entries()) {
      for (let b = 0; b < n; b++) {
        const name = `stage${stage + 1}_block${b + 1}`;
        const strides = stage > 0 && b === 0 ? 2 : 1;
        const shortcut = strides === 1 ? x : conv(x, filters, 1, strides, `${name}_shortcut`);
        let y = conv(bnRelu(x, `${name}_a`), filters, 3, strides, `${name}_conv_a`);
        y = conv(bnRelu(y, `${name}_b`), filters, 3, 1, `${name}_conv_b`);
        x = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as tfjs.SymbolicTensor;
      }
    }
    x = bnRelu(x, 'final');
    x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfjs.SymbolicTensor;
    const output = tf.layers
      .dense({
        units: classes,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        name: 'head',
      })
      .apply(x) as tfjs.SymbolicTensor;
    return tf.model({ inputs: input, outputs: output, name: `preresnet${depth}` });
  };
}

/** `preresnet` at its default depth, as a model module's `createModel`. */
export const createModel = preResNet(DEFAULT_PRERESNET_DEPTH);
