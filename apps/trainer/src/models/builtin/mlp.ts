import type * as tfjs from '@tensorflow/tfjs';
import type { CreateModelArgs } from '../factory.js';
import { heNormalPerLayer } from './seeded-initializers.js';

/**
 * MLP: flatten → [dense 256 → BN → ReLU] → [dense 128 → BN → ReLU] → dense softmax (features,
 * one row per example, need no flatten).
 */
export function createModel({ tf, inputShape, classes, seed }: CreateModelArgs): tfjs.Sequential {
  const init = heNormalPerLayer(tf, seed);
  const model = tf.sequential({ name: 'mlp' });
  const flat = inputShape.length === 1;
  if (!flat) model.add(tf.layers.flatten({ inputShape, name: 'flatten' }));
  for (const [i, units] of [256, 128].entries()) {
    model.add(
      tf.layers.dense({
        ...(flat && i === 0 ? { inputShape } : {}),
        units,
        useBias: false,
        kernelInitializer: init(),
        name: `dense${i + 1}`,
      }),
    );
    // Momentum 0.9 (PyTorch's default) rather than Keras's 0.99: the moving statistics then track
    // the weights within tens of updates, which short runs and the end of each SSE/FGE cycle need.
    model.add(tf.layers.batchNormalization({ momentum: 0.9, name: `dense${i + 1}_bn` }));
    model.add(tf.layers.reLU({ name: `dense${i + 1}_relu` }));
  }
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
