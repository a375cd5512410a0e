import type * as tfjs from '@tensorflow/tfjs';
import { UsageError } from '../../errors.js';
import type { CreateModelArgs } from '../factory.js';
import { heNormalPerLayer } from './seeded-initializers.js';

/** Smallest image side the CNN takes: two 2×2 max-pools leave at least one pixel. */
export const CNN_MIN_SIDE = 4;

/**
 * Small CNN: [conv 3×3 16 → BN → ReLU → max-pool 2] → [conv 3×3 32 → BN → ReLU → max-pool 2]
 * → flatten → [dense 64 → BN → ReLU] → dense softmax. Batch-norm momentum 0.9, as in the MLP.
 */
export function createModel({ tf, inputShape, classes, seed }: CreateModelArgs): tfjs.Sequential {
  const [rows = 0, cols = 0] = inputShape;
  if (inputShape.length !== 3) {
    throw new UsageError(
      `--model cnn takes images [h, w, c]; these examples have shape [${inputShape.join(', ')}]: use --model mlp, or a model of your own.`,
    );
  }
  if (rows < CNN_MIN_SIDE || cols < CNN_MIN_SIDE) {
    // Smaller images pool away to nothing: the head would see no features (and 1×1 fails in tfjs).
    throw new UsageError(
      `--model cnn needs images of at least ${CNN_MIN_SIDE}×${CNN_MIN_SIDE} (its two 2×2 max-pools halve each side twice); these are ${rows}×${cols}: use --model mlp, or larger images.`,
    );
  }
  const init = heNormalPerLayer(tf, seed);
  const model = tf.sequential({ name: 'cnn' });
  const bnRelu = (name: string) => {
    model.add(tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }));
    model.add(tf.layers.reLU({ name: `${name}_relu` }));
  };
  for (const [i, filters] of [16, 32].entries()) {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
        name: `conv${i + 1}`,
      }),
    );
    bnRelu(`conv${i + 1}`);
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }));
  }
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({ units: 64, useBias: false, kernelInitializer: init(), name: 'dense1' }),
  );
  bnRelu('dense1');
  model.add(
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      name: 'head',
    }),
  );
  return model;
}
