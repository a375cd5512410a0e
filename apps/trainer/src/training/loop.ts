import { Swag, WeightAverager } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import { buildModel } from '../models/registry.js';
import type { RunAverager } from './averager-state.js';
import type { RunConfig } from './config.js';
import { trainEpoch } from './epoch.js';
import { PhaseDriver } from './phase-driver.js';
import { type MethodPlan, planMethod } from './plan.js';
import { RunRecorder } from './run-recorder.js';
import { startRun } from './run-start.js';
import type { TrainRunOptions, TrainRunResult } from './run-types.js';
import { sgdUpdate } from './sgd-update.js';
import { finishSwa } from './swa-finish.js';
import type { TrainingRun } from './training-run.js';

export { epochOrder } from './epoch.js';
export type { ProgressSink, RunStores, TrainRunOptions, TrainRunResult } from './run-types.js';

/** The run's model (built-in, module or model.json), compiled with its SGD-with-momentum optimizer. */
export async function createModel(
  config: RunConfig,
  data: Pick<LoadedData, 'inputShape' | 'classes'>,
) {
  const model = await buildModel(config.model, {
    inputShape: data.inputShape,
    classes: data.classes,
    seed: config.seed,
  });
  const optimizer = tf.train.momentum(config.lr, config.momentum);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: [] });
  return { model, optimizer };
}

/** SWA's running average (SWAG keeps it too, so the SWA model is the same either way). */
function newAverager(plan: MethodPlan, config: RunConfig): RunAverager | undefined {
  if (plan.collect !== 'average') return undefined;
  return config.swagRank > 0
    ? new Swag({ rank: config.swagRank })
    : new WeightAverager({ mode: 'swa' });
}

/**
 * Trains one run of `config.method` with the app's own loop: the data order comes from
 * `epochOrder`; the learning rate and the collections come from the packages' callbacks
 * (`scheduleCallback` + `snapshotCallback` for baseline and SSE, `fgeCallback` after a
 * standard-schedule phase for FGE, `swaCallback` with a `WeightAverager` for SWA), driven as
 * `model.fit` drives callbacks (`PhaseDriver`). One epoch is `trainEpoch` (epoch.ts). Checkpoints
 * (weights, optimizer state, step, averager) after every `checkpointEvery` epochs let a killed
 * run resume and end as an uninterrupted one.
 */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { config, data, stores } = options;
  const plan = planMethod(config, data.train.size);
  const { model, optimizer } = await createModel(config, data);
  const start = await startRun(options, model, newAverager(plan, config));
  const run: TrainingRun = {
    options,
    config,
    data,
    stores,
    plan,
    model,
    optimizer,
    update: sgdUpdate(model, optimizer, config.weightDecay),
    averager: start.averager,
    recorder: new RunRecorder(start.progress, stores.saveProgress),
  };
  const phases = new PhaseDriver(run);
  const sink = options.progress;
  sink?.begin({
    label: options.label ?? config.method,
    epochs: config.epochs,
    startEpoch: start.startEpoch,
    stepsPerEpoch: plan.stepsPerEpoch,
  });
  try {
    for (let epoch = start.startEpoch; epoch < config.epochs; epoch++) {
      const { stopped } = await trainEpoch(run, await phases.at(epoch), epoch);
      if (stopped) break;
    }
    await phases.leave();
  } finally {
    sink?.end();
    run.update.dispose();
  }
  if (run.averager && !options.plain) await finishSwa(run, phases.swaForFinish());
  run.averager?.dispose();
  // The optimizer's slots are of no use once training is over; the model stays with the caller.
  optimizer.dispose();
  // Still 'running': the caller marks the run finished once its metrics and report are written.
  await run.recorder.save();
  const { trainedSeconds, trainedExamples, callbackMs } = run.recorder.tally;
  return {
    model,
    plan,
    progress: run.recorder.progress,
    members: await stores.members.list(),
    examplesPerSecond: trainedSeconds > 0 ? trainedExamples / trainedSeconds : 0,
    callbackSeconds: callbackMs / 1000,
    notes: start.notes,
    startEpoch: start.startEpoch,
  };
}
