import type * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import type { RunAverager } from './averager-state.js';
import type { RunConfig } from './config.js';
import type { MethodPlan } from './plan.js';
import type { RunRecorder } from './run-recorder.js';
import type { RunStores, TrainRunOptions } from './run-types.js';
import type { SgdUpdate } from './sgd-update.js';

/**
 * What the steps of one `trainRun` call work with. Nothing here is reassigned; the run's
 * progress changes only through `recorder`.
 */
export interface TrainingRun {
  readonly options: TrainRunOptions;
  readonly config: RunConfig;
  readonly data: LoadedData;
  readonly stores: RunStores;
  readonly plan: MethodPlan;
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  /** One SGD update on a batch (the weights change here, and only here). */
  readonly update: SgdUpdate;
  /** SWA's running average (SWAG's moments too); `undefined` for methods that do not average. */
  readonly averager: RunAverager | undefined;
  readonly recorder: RunRecorder;
}
