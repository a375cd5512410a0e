import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categoricalCrossentropy } from './cross-entropy-loss.js';
import { fusedTrainingFlags, parseFusedTraining, setFusedTraining } from './flags.js';
import { fusedTrainingInEffect } from './in-effect.js';
import { BATCH_NORM_TRAINING, CATEGORICAL_CROSSENTROPY, DENSE } from './kernel-names.js';
import { registerFusedTraining } from './register.js';

// The fused paths against tfjs's stock ones on the backend the suite runs on: the pure-JS cpu
// backend (the composed kernels) and, in the native pass (`pnpm test:native`), tfjs-node
// (TensorFlow's own fused ops). Both paths run in one process, switched by the flags.
const backend = tf.getBackend();
const TOLERANCE = 1e-4;

function expectClose(actual: Float32Array | number[], expected: Float32Array | number[]): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    worst = Math.max(worst, Math.abs(a - e) / Math.max(1, Math.abs(e)));
  }
  expect(worst).toBeLessThan(TOLERANCE);
}

function bnMlp(): tf.Sequential {
  const m = tf.sequential();
  const init = (seed: number) => tf.initializers.glorotNormal({ seed });
  m.add(
    tf.layers.dense({ inputShape: [12], units: 16, useBias: false, kernelInitializer: init(1) }),
  );
  m.add(tf.layers.batchNormalization({ momentum: 0.9 }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(2) }));
  return m;
}

/** Dense layers with a bias and each activation kind: ReLU inside the kernel, tanh after it. */
function denseMlp(): tf.Sequential {
  const m = tf.sequential();
  const init = (seed: number) => tf.initializers.glorotNormal({ seed });
  const bias = (seed: number) => tf.initializers.randomNormal({ seed, stddev: 0.3 });
  m.add(
    tf.layers.dense({
      inputShape: [12],
      units: 16,
      activation: 'relu',
      kernelInitializer: init(5),
      biasInitializer: bias(6),
    }),
  );
  m.add(tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: init(7) }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(8) }));
  return m;
}

function bnCnn(): tf.Sequential {
  const m = tf.sequential();
  const init = (seed: number) => tf.initializers.heNormal({ seed });
  m.add(
    tf.layers.conv2d({
      inputShape: [6, 6, 2],
      filters: 3,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(3),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(4) }));
  return m;
}

/** Weights (all, moving statistics included) and a prediction after a few momentum steps. */
async function train(build: () => tf.Sequential, fused: boolean, inputShape: number[]) {
  setFusedTraining(fused);
  const model = build();
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([10, ...inputShape], 0.5, 2, 'float32', 11);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], 'int32'), 4).toFloat();
  const kernels = new Set<string>();
  for (let step = 0; step < 4; step++) {
    const profile = await tf.profile(() => model.trainOnBatch(x, y));
    for (const k of profile.kernels) kernels.add(k.name);
  }
  const weights = model.weights.map((w) => w.read().dataSync() as Float32Array);
  const prediction = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
  tf.dispose([x, y]);
  model.dispose();
  return { weights, prediction, kernels };
}

describe(`fused training kernels on the '${backend}' backend`, () => {
  const before = { ...fusedTrainingFlags() };
  beforeAll(() => {
    registerFusedTraining(backend);
  });
  afterAll(() => {
    setFusedTraining(before);
  });

  for (const [name, build, shape, fusedKernel] of [
    ['dense + batch norm (2-D)', bnMlp, [12], BATCH_NORM_TRAINING],
    ['conv + batch norm (4-D)', bnCnn, [6, 6, 2], BATCH_NORM_TRAINING],
    ['dense with bias, ReLU, tanh and softmax', denseMlp, [12], DENSE],
  ] as const) {
    it(`${name}: weights, moving statistics and predictions match the stock path to 1e-4`, async () => {
      const stock = await train(() => build(), false, [...shape]);
      const fused = await train(() => build(), true, [...shape]);
      for (const kernel of [fusedKernel, CATEGORICAL_CROSSENTROPY]) {
        expect(stock.kernels.has(kernel)).toBe(false);
        expect(fused.kernels.has(kernel)).toBe(true);
      }
      expect(fused.weights.length).toBe(stock.weights.length);
      fused.weights.forEach((w, i) => {
        expectClose(w, stock.weights[i] as Float32Array);
      });
      expectClose(fused.prediction, stock.prediction);
    });
  }

  it('gradients of x, scale and offset match the moments + batchNorm formula', () => {
    setFusedTraining(true);
    const x = tf.randomNormal([7, 5], 1, 3, 'float32', 5);
    const scale = tf.randomUniform([5], 0.5, 2, 'float32', 6);
    const offset = tf.randomNormal([5], 0, 1, 'float32', 7);
    const w = tf.randomNormal([7, 5], 0, 1, 'float32', 8);
    const loss = (fused: boolean) => (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      let y: tf.Tensor;
      if (fused) {
        [y] = tf.engine().runKernel(
          BATCH_NORM_TRAINING,
          { x: xs, scale: g, offset: b },
          {
            epsilon: 1e-3,
          },
        ) as tf.Tensor[] as [tf.Tensor];
      } else {
        const { mean, variance } = tf.moments(xs, [0]);
        y = tf.batchNorm(xs, mean, variance, b, g, 1e-3);
      }
      return tf.sum(tf.mul(y, w)) as tf.Scalar;
    };
    const grads = (fused: boolean) =>
      tf.tidy(() =>
        tf
          .grads(loss(fused))([x, scale, offset])
          .map((g) => g.dataSync() as Float32Array),
      );
    const stock = grads(false);
    grads(true).forEach((g, i) => {
      expectClose(g, stock[i] as Float32Array);
    });
    tf.dispose([x, scale, offset, w]);
  });

  it('dense gradients are dy·Wᵀ, xᵀ·dy and Σ dy, through the ReLU where it is on', () => {
    setFusedTraining(true);
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 21);
    const kernel = tf.randomNormal([5, 3], 0, 1, 'float32', 22);
    const bias = tf.randomNormal([3], 0, 1, 'float32', 23);
    const w = tf.randomNormal([6, 3], 0, 1, 'float32', 24);
    for (const activation of ['linear', 'relu'] as const) {
      const fused = (a: tf.Tensor, k: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.engine().runKernel(DENSE, { x: a, kernel: k, bias: b }, { activation }) as tf.Tensor,
            w,
          ),
        ) as tf.Scalar;
      const formula = (a: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => {
        const z = tf.add(tf.matMul(a, k), b);
        return tf.sum(tf.mul(activation === 'relu' ? tf.relu(z) : z, w)) as tf.Scalar;
      };
      const grads = (f: typeof fused) =>
        tf.tidy(() =>
          tf
            .grads(f)([x, kernel, bias])
            .map((g) => g.dataSync() as Float32Array),
        );
      const expected = grads(formula);
      grads(fused).forEach((g, i) => {
        expectClose(g, expected[i] as Float32Array);
      });
    }
    tf.dispose([x, kernel, bias, w]);
  });

  it("cross-entropy and its gradient match tfjs-layers' formula, clipping and normalization included", async () => {
    setFusedTraining(true);
    // Rows: a softmax output, one with entries below ε and at 1 (clipped), one that does not
    // sum to 1 (normalized first), soft labels.
    const probs = tf.tensor2d([
      [0.7, 0.2, 0.1],
      [1e-9, 1, 0],
      [0.5, 1.5, 2],
      [0.3, 0.3, 0.4],
    ]);
    const target = tf.tensor2d([
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
      [0.2, 0.5, 0.3],
    ]);
    const weights = tf.tensor1d([1, -2, 0.5, 3]);
    const lossOf = (f: (t: tf.Tensor, p: tf.Tensor) => tf.Tensor) => (p: tf.Tensor) =>
      tf.sum(tf.mul(f(target, p), weights)) as tf.Scalar;
    const run = (f: (t: tf.Tensor, p: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => ({
        loss: f(target, probs).dataSync() as Float32Array,
        grad: tf.grad(lossOf(f))(probs).dataSync() as Float32Array,
      }));
    const stock = run(tf.metrics.categoricalCrossentropy);
    const fused = run(categoricalCrossentropy);
    const profile = await tf.profile(() => categoricalCrossentropy(target, probs));
    expect(profile.kernels.map((k) => k.name)).toContain(CATEGORICAL_CROSSENTROPY);
    tf.dispose(profile.result as tf.Tensor);
    expectClose(fused.loss, stock.loss);
    expectClose(fused.grad, stock.grad);
    // The clipped entries of row 2 get no gradient, as in tfjs.
    expect(fused.grad[3]).toBe(0);
    expect(fused.grad[5]).toBe(0);
    tf.dispose([probs, target, weights]);
  });

  it('categoricalCrossentropy refuses targets of another shape, and leaks nothing', () => {
    const probs = tf.tensor2d([[0.5, 0.5]]);
    const floatTarget = tf.tensor2d([[0, 1]]);
    const intTarget = tf.tensor2d([[0, 1]], undefined, 'int32');
    const start = tf.memory().numTensors;
    for (const fused of [true, false]) {
      setFusedTraining({ crossEntropy: fused });
      for (const target of [floatTarget, intTarget]) {
        const loss = categoricalCrossentropy(target, probs);
        expect(loss.dataSync()[0]).toBeCloseTo(Math.log(2), 5);
        loss.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(start);
    setFusedTraining(true);
    expect(() => categoricalCrossentropy(tf.tensor1d([1]), probs)).toThrow(
      /Invalid target: got "a tensor of shape \[1\]"; expected the shape of probs, \[1,2\]/,
    );
    tf.dispose([probs, floatTarget, intTarget]);
  });

  it("only models compiled with the loss 'categoricalCrossentropy' by name take the fused loss", async () => {
    setFusedTraining(true);
    const kernelsOf = async (loss: string | ((t: tf.Tensor, p: tf.Tensor) => tf.Tensor)) => {
      const model = denseMlp();
      model.compile({ optimizer: tf.train.sgd(0.1), loss });
      const x = tf.randomNormal([4, 12], 0, 1, 'float32', 31);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4).toFloat();
      const profile = await tf.profile(() => model.trainOnBatch(x, y));
      tf.dispose([x, y]);
      model.dispose();
      return profile.kernels.map((k) => k.name);
    };
    expect(await kernelsOf('categoricalCrossentropy')).toContain(CATEGORICAL_CROSSENTROPY);
    expect(await kernelsOf(tf.metrics.categoricalCrossentropy)).not.toContain(
      CATEGORICAL_CROSSENTROPY,
    );
    expect(await kernelsOf('meanSquaredError')).not.toContain(CATEGORICAL_CROSSENTROPY);
    setFusedTraining({ crossEntropy: false });
    expect(await kernelsOf('categoricalCrossentropy')).not.toContain(CATEGORICAL_CROSSENTROPY);
  });

  it('reports the paths in effect: turned on and with kernels on this backend', () => {
    setFusedTraining(true);
    const native = backend === 'tensorflow';
    const all = ['batchNorm', 'reluGrad', 'dense', 'crossEntropy'];
    expect(fusedTrainingInEffect(backend)).toEqual(
      native ? all : ['batchNorm', 'dense', 'crossEntropy'],
    );
    setFusedTraining({ dense: false });
    expect(fusedTrainingInEffect(backend)).not.toContain('dense');
    expect(fusedTrainingInEffect('no-such-backend')).toEqual([]);
    setFusedTraining(true);
  });

  for (const [name, build, shape] of [
    ['conv + batch norm', bnCnn, [6, 6, 2]],
    ['dense', denseMlp, [12]],
  ] as const) {
    it(`keeps the number of tensors flat over many fused training steps (${name})`, async () => {
      setFusedTraining(true);
      const model = build();
      model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
      const x = tf.randomNormal([8, ...shape], 0, 1, 'float32', 12);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4).toFloat();
      await model.trainOnBatch(x, y);
      const start = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) await model.trainOnBatch(x, y);
      expect(tf.memory().numTensors).toBe(start);
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});

describe('fused training flags', () => {
  const before = { ...fusedTrainingFlags() };
  afterAll(() => {
    setFusedTraining(before);
  });

  it('turn paths off and on one at a time', () => {
    const off = {
      batchNorm: false,
      reluGrad: false,
      dense: false,
      crossEntropy: false,
    };
    expect(setFusedTraining(false)).toEqual(off);
    expect(setFusedTraining({ batchNorm: true })).toEqual({ ...off, batchNorm: true });
    expect(fusedTrainingFlags()).toEqual({ ...off, batchNorm: true });
  });

  it('read ONERUN_FUSED_TRAINING: on, off, or a list of the paths to keep', () => {
    const on = { batchNorm: true, reluGrad: true, dense: true, crossEntropy: true };
    expect(parseFusedTraining(undefined)).toEqual(on);
    expect(parseFusedTraining('1')).toEqual(on);
    expect(parseFusedTraining('off')).toEqual({
      batchNorm: false,
      reluGrad: false,
      dense: false,
      crossEntropy: false,
    });
    expect(parseFusedTraining('batchNorm, dense')).toEqual({
      ...on,
      reluGrad: false,
      crossEntropy: false,
    });
    expect(() => parseFusedTraining('batchnorm')).toThrow(
      /ONERUN_FUSED_TRAINING: got "batchnorm".*batchNorm, reluGrad, dense, crossEntropy/,
    );
  });
});
