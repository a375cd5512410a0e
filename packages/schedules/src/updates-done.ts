import { InvalidArgumentError } from '@onerun/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ScheduleClock } from './schedule.js';

/**
 * Optimizer updates done so far, read from the one step source the callbacks share: `clock`
 * (the `scheduleCallback` driving the rate) when given, else the model optimizer's own count
 * (`optimizer.iterations`, which every tfjs optimizer keeps and a snapshot saved with its
 * optimizer restores).
 */
export function updatesDone(model: LayersModel | undefined, clock?: ScheduleClock): number {
  if (clock !== undefined) return clock.step;
  const optimizer = model?.optimizer;
  if (optimizer == null) {
    throw new InvalidArgumentError(
      'model',
      model,
      'a compiled model (its optimizer counts the updates), or options.schedule',
    );
  }
  return optimizer.iterations;
}
