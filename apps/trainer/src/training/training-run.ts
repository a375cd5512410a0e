import type * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import type { RunProgress } from '../run-folder/records.js';
import type { RunAverager } from './averager-state.js';
import type { RunConfig } from './config.js';
import { DivergenceError } from './divergence.js';
import type { MethodPlan } from './plan.js';
import type { RunStores, TrainRunOptions } from './run-types.js';

/** Time and examples of the epochs trained in one `trainRun` call. */
export interface TrainingTally {
  trainedSeconds: number;
  /** Milliseconds spent inside the callbacks. */
  callbackMs: number;
  trainedExamples: number;
}

/** What the steps of one `trainRun` call share: the run, its model and its progress so far. */
export interface TrainingRun {
  options: TrainRunOptions;
  config: RunConfig;
  data: LoadedData;
  stores: RunStores;
  plan: MethodPlan;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** SWA's running average (SWAG's moments too); `undefined` for methods that do not average. */
  averager: RunAverager | undefined;
  progress: RunProgress;
  tally: TrainingTally;
}

/** The error for training that diverged at update `step` (1-based), with `lr` that update's rate. */
export function divergedAt(
  run: TrainingRun,
  step: number,
  what: string,
  lr: number,
): DivergenceError {
  return new DivergenceError(step, what, lr, run.config.lr, run.progress.checkpoint?.epoch ?? 0);
}
