import type { NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { fusedTrainingFlags } from './flags.js';

/**
 * One momentum step for one variable: inputs `value, accumulation, gradient, m` (momentum) and
 * `c` (−learning rate), both scalars; outputs `[m·accumulation + gradient, c·newAccumulation +
 * value]`, tfjs's `MomentumOptimizer` formula with the same operands in the same order.
 */
export const MOMENTUM_UPDATE = 'OnerunMomentumUpdate';

/** The members of tfjs-core's `MomentumOptimizer` used here. */
interface MomentumOptimizerLike {
  m: Tensor;
  c: Tensor;
  useNesterov: boolean;
  accumulations: ({ originalName: string; variable: Variable } | undefined)[];
  incrementIterations(): void;
}

type ApplyGradients = (
  this: MomentumOptimizerLike,
  gradients: NamedTensorMap | { name: string; tensor: Tensor }[],
) => void;

const PATCHED = Symbol.for('@onerun/backend/fused-momentum');

function fusable(optimizer: MomentumOptimizerLike): boolean {
  return (
    fusedTrainingFlags().momentum &&
    !optimizer.useNesterov &&
    tf.getKernel(MOMENTUM_UPDATE, tf.getBackend()) !== undefined
  );
}

/**
 * Routes tfjs-core's `MomentumOptimizer.applyGradients` (without Nesterov) through
 * {@link MOMENTUM_UPDATE} on backends that have that kernel, while the `momentum` flag is on:
 * one kernel per variable instead of four, with the same slots (`accumulations`, by position),
 * the same variables and the same iteration count, so saved optimizer state is interchangeable.
 * Idempotent; returns false if the class is not registered.
 */
export function patchMomentumOptimizer(): boolean {
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<
    string,
    [unknown, unknown]
  >;
  const cls = map.Momentum?.[0] as
    | { prototype: { applyGradients: ApplyGradients & { [PATCHED]?: true } } }
    | undefined;
  if (cls === undefined) return false;
  const stock = cls.prototype.applyGradients;
  if (stock[PATCHED]) return true;
  const applyGradients: ApplyGradients = function (this: MomentumOptimizerLike, gradients) {
    if (!fusable(this)) {
      stock.call(this, gradients);
      return;
    }
    const list = Array.isArray(gradients);
    const names = list ? gradients.map((g) => g.name) : Object.keys(gradients);
    const registered = tf.engine().registeredVariables;
    names.forEach((name, i) => {
      const value = registered[name] as Variable;
      if (this.accumulations[i] == null) {
        this.accumulations[i] = {
          originalName: `${name}/momentum`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const accumulation = (this.accumulations[i] as { variable: Variable }).variable;
      const gradient = list ? gradients[i]?.tensor : gradients[name];
      if (gradient == null) return;
      const [newAccumulation, newValue] = tf
        .engine()
        .runKernel(
          MOMENTUM_UPDATE,
          { value, accumulation, gradient, m: this.m, c: this.c },
          {},
        ) as [Tensor, Tensor];
      accumulation.assign(newAccumulation);
      value.assign(newValue);
      tf.dispose([newAccumulation, newValue]);
    });
    this.incrementIterations();
  };
  Object.assign(applyGradients, { [PATCHED]: true, stock });
  cls.prototype.applyGradients = applyGradients as ApplyGradients & { [PATCHED]?: true };
  return true;
}
