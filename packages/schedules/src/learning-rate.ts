import { InvalidArgumentError, requireNonNegative } from '@onerun/core';
import type { Optimizer } from '@tensorflow/tfjs-core';
import { UnsupportedOptimizerError } from './errors.js';

/** Sets the rate an optimizer uses from its next `applyGradients` on. */
export type LearningRateSetter = (optimizer: Optimizer, lr: number) => void;

// Read from tfjs-core 4.22 `dist/optimizers/*.js`:
// - SGD and Momentum multiply by the scalar `this.c`, built only by `setLearningRate`; assigning
//   `learningRate` alone would change nothing.
// - Adam, Adamax, RMSProp, Adagrad and Adadelta read `this.learningRate` inside `applyGradients`
//   on every call and cache nothing derived from it, so assigning the field is enough.
type WithSetter = { setLearningRate(lr: number): void };
type WithField = { learningRate: number };

const viaSetter: LearningRateSetter = (optimizer, lr) => {
  (optimizer as unknown as WithSetter).setLearningRate(lr);
};
const viaField: LearningRateSetter = (optimizer, lr) => {
  (optimizer as unknown as WithField).learningRate = lr;
};

const setters = new Map<string, LearningRateSetter>([
  ['SGD', viaSetter],
  ['Momentum', viaSetter],
  ['Adam', viaField],
  ['Adamax', viaField],
  ['RMSProp', viaField],
  ['Adagrad', viaField],
  ['Adadelta', viaField],
]);

function classNameOf(optimizer: Optimizer): string {
  if (
    optimizer === null ||
    typeof optimizer !== 'object' ||
    typeof optimizer.getClassName !== 'function'
  ) {
    throw new InvalidArgumentError(
      'optimizer',
      optimizer,
      'a tfjs Optimizer (e.g. tf.train.adam())',
    );
  }
  // A subclass inherits the static `className` of its base unless it overrides it.
  return optimizer.getClassName();
}

/**
 * Sets the learning rate of any tfjs optimizer: SGD and Momentum through `setLearningRate`, Adam,
 * Adamax, RMSProp, Adagrad and Adadelta through their `learningRate` field (which they read on
 * every step). The one place in onerun that knows how; every package uses it. Throws
 * `InvalidArgumentError` for a negative or non-finite rate and {@link UnsupportedOptimizerError}
 * for a class it does not know (see {@link registerLearningRateSetter}).
 */
export function setOptimizerLearningRate(optimizer: Optimizer, lr: number): void {
  const className = classNameOf(optimizer);
  const value = requireNonNegative('learning rate', lr);
  const setter = setters.get(className);
  if (!setter) throw new UnsupportedOptimizerError(className, [...setters.keys()]);
  setter(optimizer, value);
}

/** Throws {@link UnsupportedOptimizerError} unless `setOptimizerLearningRate` can drive it. */
export function assertLearningRateSettable(optimizer: Optimizer): void {
  const className = classNameOf(optimizer);
  if (!setters.has(className)) throw new UnsupportedOptimizerError(className, [...setters.keys()]);
}

/**
 * The learning rate the optimizer was last given (its `learningRate` field, which every tfjs
 * optimizer keeps and `setOptimizerLearningRate` updates).
 */
export function getOptimizerLearningRate(optimizer: Optimizer): number {
  assertLearningRateSettable(optimizer);
  return (optimizer as unknown as WithField).learningRate;
}

/**
 * Teaches {@link setOptimizerLearningRate} a custom optimizer class, keyed by its
 * `getClassName()`. Replaces any setter already registered under that name.
 */
export function registerLearningRateSetter(className: string, setter: LearningRateSetter): void {
  if (typeof className !== 'string' || className.length === 0) {
    throw new InvalidArgumentError('className', className, 'a non-empty optimizer class name');
  }
  if (typeof setter !== 'function') {
    throw new InvalidArgumentError('setter', setter, 'a function (optimizer, lr) => void');
  }
  setters.set(className, setter);
}
