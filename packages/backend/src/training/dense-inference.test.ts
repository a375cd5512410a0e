import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedTrainingFlags, setFusedTraining } from './flags.js';
import { DENSE } from './kernel-names.js';
import { registerFusedTraining } from './register.js';

// Inference (predict / execute) through the fused dense kernel against tfjs's own Dense on the
// backend the suite runs on (cpu: the kernel composed of tfjs ops; the native pass: TensorFlow's
// MatMul + BiasAdd + Relu).
const backend = tf.getBackend();

function mlp(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotNormal({ seed });
  const bias = (seed: number) => tf.initializers.randomNormal({ seed, stddev: 0.3 });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [12],
        units: 16,
        activation: 'relu',
        kernelInitializer: init(1),
        biasInitializer: bias(2),
      }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 8, useBias: false, activation: 'tanh', kernelInitializer: init(3) }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}

describe('Dense inference through the fused kernel', () => {
  const before = fusedTrainingFlags();
  beforeAll(() => {
    registerFusedTraining(backend);
  });
  afterAll(() => {
    setFusedTraining(before);
  });

  it('predicts what tfjs predicts (1e-5), with one kernel per Dense layer', async () => {
    const model = mlp();
    const x = tf.randomNormal([10, 12], 0, 1, 'float32', 5);
    const predictWith = async (dense: boolean) => {
      setFusedTraining({ dense });
      const profile = await tf.profile(() => {
        tf.tidy(() => {
          model.predict(x);
        });
      });
      const out = model.predict(x) as tf.Tensor;
      const values = await out.data();
      out.dispose();
      return { values, fused: profile.kernels.filter((k) => k.name === DENSE).length };
    };
    const start = tf.memory().numTensors;
    const stock = await predictWith(false);
    const fused = await predictWith(true);
    expect(stock.fused).toBe(0);
    expect(fused.fused).toBe(3);
    let worst = 0;
    fused.values.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - (stock.values[i] as number)));
    });
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(start);
    x.dispose();
    model.dispose();
  });
});
