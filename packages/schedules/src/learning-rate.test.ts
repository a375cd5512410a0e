import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UnsupportedOptimizerError } from './errors.js';
import {
  getOptimizerLearningRate,
  registerLearningRateSetter,
  setOptimizerLearningRate,
} from './learning-rate.js';

// Which value each optimizer reads at apply time is proven by training in
// schedule-callback.test.ts; here: the dispatch, the bookkeeping and the errors.

const optimizers = (): [string, tf.Optimizer][] => [
  ['SGD', tf.train.sgd(0.5)],
  ['Momentum', tf.train.momentum(0.5, 0.9)],
  ['Adam', tf.train.adam(0.5)],
  ['Adamax', tf.train.adamax(0.5)],
  ['RMSProp', tf.train.rmsprop(0.5)],
  ['Adagrad', tf.train.adagrad(0.5)],
  ['Adadelta', tf.train.adadelta(0.5)],
];

describe('setOptimizerLearningRate', () => {
  it.each(optimizers())('sets and reads back the rate of %s without leaking tensors', (_, opt) => {
    setOptimizerLearningRate(opt, 0.25); // SGD/Momentum replace their scalar once
    const before = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) setOptimizerLearningRate(opt, 0.01 * k);
    expect(getOptimizerLearningRate(opt)).toBeCloseTo(0.19, 15);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
  });

  it("updates SGD's update scalar, not only the field", () => {
    const opt = tf.train.sgd(0.5);
    setOptimizerLearningRate(opt, 0.125);
    const c = (opt as unknown as { c: tf.Scalar }).c;
    expect(c.dataSync()[0]).toBe(-0.125);
    opt.dispose();
  });

  it('refuses an unknown optimizer class with a typed error, until a setter is registered', () => {
    class Lion extends tf.Optimizer {
      static get className() {
        return 'LionForTest';
      }
      learningRate = 0.1;
      applyGradients(): void {}
      getConfig() {
        return {};
      }
    }
    const lion = new Lion();
    let error: unknown;
    try {
      setOptimizerLearningRate(lion, 0.1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedOptimizerError);
    expect((error as Error).message).toMatch(
      /class "LionForTest"; expected one of SGD, Momentum, Adam/,
    );
    registerLearningRateSetter('LionForTest', (o, lr) => {
      (o as unknown as Lion).learningRate = lr;
    });
    setOptimizerLearningRate(lion, 0.03);
    expect(lion.learningRate).toBe(0.03);
  });

  it('refuses bad rates and non-optimizers', () => {
    const opt = tf.train.adam(0.1);
    expect(() => setOptimizerLearningRate(opt, -1)).toThrow(
      /learning rate: got -1; expected a finite number ≥ 0/,
    );
    expect(() => setOptimizerLearningRate(opt, Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => setOptimizerLearningRate({} as never, 0.1)).toThrow(
      /optimizer: got an object; expected a tfjs Optimizer/,
    );
    expect(getOptimizerLearningRate(opt)).toBe(0.1);
    opt.dispose();
  });
});
