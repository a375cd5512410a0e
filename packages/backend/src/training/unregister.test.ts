import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UntestedTfjsVersionError } from '../errors.js';
import { fusedTrainingInEffect } from './in-effect.js';
import { registerFusedTraining } from './register.js';
import { unregisterFusedTraining } from './unregister.js';

// This file starts from stock tfjs (vitest loads it afresh per test file). The native pass's
// setup (selectBackend) has already registered the fused paths: undo that first.
unregisterFusedTraining();
const backend = tf.getBackend();

const PATCHED_METHODS = [
  ['Dense', 'call'],
  ['BatchNormalization', 'call'],
  ['Model', 'compile'],
] as const;

/** What registerFusedTraining may change: methods (and whether they are own), gradient, kernels. */
function tfjsState() {
  const classes = tf.serialization.SerializationMap.getMap().classNameMap as Record<
    string,
    [{ prototype: Record<string, unknown> }, unknown]
  >;
  return {
    methods: PATCHED_METHODS.map(([name, method]) => {
      const prototype = classes[name]?.[0].prototype as Record<string, unknown>;
      return { fn: prototype[method], own: Object.hasOwn(prototype, method) };
    }),
    reluGradient: tf.getGradient('Relu'),
    kernels: tf
      .getKernelsForBackend(backend)
      .map((k) => k.kernelName)
      .sort(),
  };
}

/** Weights after three SGD steps of a dense → batch norm → ReLU → softmax model. */
async function trainedWeights(): Promise<Float32Array[]> {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 8, kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(2) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const xs = tf.randomNormal([16, 6], 0, 1, 'float32', 3);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
  for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
  const weights = model.weights.map((w) => w.read().dataSync() as Float32Array);
  tf.dispose([xs, ys]);
  model.dispose();
  return weights;
}

describe('unregisterFusedTraining', () => {
  it('puts tfjs back as it was: the same methods, gradient and kernels, the same numbers', async () => {
    const stock = tfjsState();
    const stockWeights = await trainedWeights();

    const registration = registerFusedTraining(backend);
    expect(registration.registered.length).toBeGreaterThan(0);
    const patched = tfjsState();
    for (const [i, method] of patched.methods.entries()) {
      expect(method.fn).not.toBe(stock.methods[i]?.fn);
    }
    expect(patched.reluGradient).not.toBe(stock.reluGradient);
    expect(fusedTrainingInEffect(backend)).not.toEqual([]);

    const undone = unregisterFusedTraining();
    expect(undone.methods).toEqual(['Dense.call', 'BatchNormalization.call', 'Model.compile']);
    expect(undone.reluGradientRestored).toBe(true);
    expect(undone.kernels.sort()).toEqual(
      registration.registered.map((k) => `${k}@${backend}`).sort(),
    );
    expect(tfjsState()).toEqual(stock);
    const after = tfjsState();
    for (const [i, method] of after.methods.entries()) expect(method.fn).toBe(stock.methods[i]?.fn);
    expect(after.reluGradient).toBe(stock.reluGradient);
    expect(fusedTrainingInEffect(backend)).toEqual([]);
    expect(await trainedWeights()).toEqual(stockWeights);

    // Nothing left to undo; and it registers again as the first time.
    expect(unregisterFusedTraining()).toEqual({
      kernels: [],
      gradients: [],
      reluGradientRestored: false,
      methods: [],
    });
    expect(registerFusedTraining(backend).registered).toEqual(registration.registered);
    unregisterFusedTraining();
    expect(tfjsState()).toEqual(stock);
  });

  it('registerFusedTraining refuses a tfjs other than 4.22.x unless told to go ahead', () => {
    const stock = tfjsState();
    for (const tfjsVersions of [
      { core: '4.23.0', layers: '4.22.0' },
      { core: '4.22.0', layers: '5.0.0' },
    ]) {
      let error: unknown;
      try {
        registerFusedTraining(backend, { tfjsVersions });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UntestedTfjsVersionError);
      expect((error as Error).message).toMatch(
        /is (4\.23\.0|5\.0\.0); expected 4\.22\.x.*allowUntestedTfjs/,
      );
      expect(tfjsState()).toEqual(stock); // nothing was touched
    }
    const tfjsVersions = { core: '4.23.0', layers: '4.23.0' };
    expect(
      registerFusedTraining(backend, { tfjsVersions, allowUntestedTfjs: true }).registered,
    ).not.toEqual([]);
    unregisterFusedTraining();
    expect(tf.version_core).toMatch(/^4\.22\./);
    expect(() => registerFusedTraining(backend)).not.toThrow();
    unregisterFusedTraining();
  });
});
