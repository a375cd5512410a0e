import { requireInteger } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';

/** The reference architectures. */
export const MODEL_NAMES = ['mlp', 'cnn'] as const;
/** One of `MODEL_NAMES`. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** What a model is built for. */
export interface ModelOptions {
  inputShape: [number, number, number];
  classes: number;
  /** Seeds every initializer (each layer gets its own derived seed). */
  seed: number;
}

/** Checks a model name from the command line. */
export function parseModelName(value: string): ModelName {
  if ((MODEL_NAMES as readonly string[]).includes(value)) return value as ModelName;
  throw new UsageError(
    `Unknown model '${value}'; use --model with one of ${MODEL_NAMES.join(', ')}.`,
  );
}

function initializers(seed: number) {
  let layer = 0;
  // A different, reproducible seed per layer: equal seeds would give equal kernels of equal shape.
  return () => tf.initializers.heNormal({ seed: (seed * 7919 + ++layer * 104729) % 2147483647 });
}

function bnRelu(model: tf.Sequential, name: string): void {
  // Momentum 0.9 (PyTorch's default) rather than Keras's 0.99: the moving statistics then track
  // the weights within tens of updates, which short runs and the end of each SSE/FGE cycle need.
  model.add(tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }));
  model.add(tf.layers.reLU({ name: `${name}_relu` }));
}

function addSoftmaxHead(model: tf.Sequential, options: ModelOptions): void {
  model.add(
    tf.layers.dense({
      units: options.classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed }),
      name: 'head',
    }),
  );
}

/** MLP: flatten → [dense 256 → BN → ReLU] → [dense 128 → BN → ReLU] → dense softmax. */
export function buildMlp(options: ModelOptions): tf.Sequential {
  const init = initializers(options.seed);
  const model = tf.sequential({ name: 'mlp' });
  model.add(tf.layers.flatten({ inputShape: options.inputShape, name: 'flatten' }));
  for (const [i, units] of [256, 128].entries()) {
    model.add(
      tf.layers.dense({ units, useBias: false, kernelInitializer: init(), name: `dense${i + 1}` }),
    );
    bnRelu(model, `dense${i + 1}`);
  }
  addSoftmaxHead(model, options);
  return model;
}

/** Smallest image side the CNN takes: two 2×2 max-pools leave at least one pixel. */
export const CNN_MIN_SIDE = 4;

/**
 * Small CNN: [conv 3×3 16 → BN → ReLU → max-pool 2] → [conv 3×3 32 → BN → ReLU → max-pool 2]
 * → flatten → [dense 64 → BN → ReLU] → dense softmax.
 */
export function buildCnn(options: ModelOptions): tf.Sequential {
  const [rows, cols] = options.inputShape;
  if (rows < CNN_MIN_SIDE || cols < CNN_MIN_SIDE) {
    // Smaller images pool away to nothing: the head would see no features (and 1×1 fails in tfjs).
    throw new UsageError(
      `--model cnn needs images of at least ${CNN_MIN_SIDE}×${CNN_MIN_SIDE} (its two 2×2 max-pools halve each side twice); these are ${rows}×${cols}: use --model mlp, or larger images.`,
    );
  }
  const init = initializers(options.seed);
  const model = tf.sequential({ name: 'cnn' });
  for (const [i, filters] of [16, 32].entries()) {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: options.inputShape } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
        name: `conv${i + 1}`,
      }),
    );
    bnRelu(model, `conv${i + 1}`);
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }));
  }
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({ units: 64, useBias: false, kernelInitializer: init(), name: 'dense1' }),
  );
  bnRelu(model, 'dense1');
  addSoftmaxHead(model, options);
  return model;
}

/** Builds a reference model by name. Both end in a softmax and carry batch norm. */
export function buildModel(name: ModelName, options: ModelOptions): tf.Sequential {
  requireInteger('classes', options.classes, 2);
  return name === 'mlp' ? buildMlp(options) : buildCnn(options);
}
