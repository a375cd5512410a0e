import { seededRandom, shuffledIndices } from '@onerun/core';
import { getOptimizerLearningRate } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs';
import { scoreSplit } from '../evaluation/measure.js';
import type { EpochRecord } from '../run-folder/records.js';
import { keepBranchPoint, saveCheckpoint } from './checkpoint-save.js';
import { DivergenceError, weightsAreFinite } from './divergence.js';
import { LossWindow } from './loss-window.js';
import type { ActivePhase } from './phase-driver.js';
import { saveSwaMilestone } from './swa-milestone.js';
import type { TrainingRun } from './training-run.js';

// One epoch, start to end:
//   1. the batches, in `epochOrder`: for each, the callbacks' batch begin (they set the learning
//      rate), one SGD update, the callbacks' batch end (they collect: snapshots, averages), and
//      every few batches a read of the losses (the loss curve; a divergence check);
//   2. the callbacks' epoch end (SWA averages there), then the epoch's record;
//   3. test (and validation) metrics when due;
//   4. what is saved after it: SWA milestones, a kept branching point, a checkpoint.
// Every change to the run's progress goes through `run.recorder`.

/**
 * The order of the training examples in `epoch`: a Fisher–Yates shuffle seeded from the run's
 * seed and the epoch, so a resumed run sees exactly the batches an uninterrupted one would.
 */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  return shuffledIndices(n, seededRandom((seed * 1_000_003 + epoch * 7_919 + 17) >>> 0));
}

/** What an epoch's batches leave for its end. */
interface TrainedBatches {
  /** Batches trained: all of the epoch's unless the method stopped. */
  batches: number;
  /** The learning rate of the last batch. */
  lr: number;
  /** Sum of the batches' losses. */
  lossSum: number;
  /** FGE stops right after its last collection (`model.stopTraining`, as in `model.fit`). */
  stopped: boolean;
}

/**
 * Trains `epoch` (0-based) of the active `phase`, records it and saves what is due after it.
 * Returns whether the method stopped training (FGE after its last collection).
 */
export async function trainEpoch(
  run: TrainingRun,
  phase: ActivePhase,
  epoch: number,
): Promise<{ stopped: boolean }> {
  await phase.epochBegin(epoch);
  const started = performance.now();
  const trained = await trainBatches(run, phase, epoch);
  const record = await endEpoch(run, phase, epoch, trained, started);
  await scoreEpoch(run, record, trained.stopped);
  run.recorder.epochDone(
    record,
    Math.min(run.data.train.size, trained.batches * run.config.batchSize),
  );
  run.options.progress?.epochEnd(record);
  await saveAfterEpoch(run, phase, record, trained);
  return { stopped: trained.stopped };
}

/** Step 1: the epoch's batches (the updates, the callbacks around them, the loss curve). */
async function trainBatches(
  run: TrainingRun,
  phase: ActivePhase,
  epoch: number,
): Promise<TrainedBatches> {
  const { config, data, model, optimizer, plan, update, recorder } = run;
  const train = data.train;
  const E = plan.stepsPerEpoch;
  const order = epochOrder(config.seed, epoch, train.size);
  const window = new LossWindow(Math.max(1, Math.ceil(E / 25)));
  let lr = 0;
  let batches = 0;
  let stopped = false;
  for (let b = 0; b < E; b++) {
    const begin = b * config.batchSize;
    const size = Math.min(config.batchSize, train.size - begin);
    await phase.batchBegin(b, size);
    lr = getOptimizerLearningRate(optimizer);
    const ce = tf.tidy(() => {
      const batch = train.take(order.subarray(begin, begin + size));
      return update.step(batch.xs, batch.ys);
    });
    window.add(ce);
    const step = epoch * E + b;
    await phase.batchEnd(b, size, ce, { step: step + 1, epoch: epoch + (b + 1) / E, lr });
    batches = b + 1;
    stopped = model.stopTraining;
    if (window.full || b === E - 1 || stopped) {
      const batchLr = lr;
      const loss = await window.read(step, model, (s, what) => diverged(run, s, what, batchLr));
      recorder.lossRead(step + 1, loss);
    }
    run.options.progress?.update({
      epoch,
      batch: b + 1,
      lr,
      ...(window.last !== undefined ? { loss: window.last } : {}),
    });
    if (stopped) break;
  }
  return { batches, lr, lossSum: window.sum, stopped };
}

/** Step 2: the callbacks' epoch end, and the epoch's record (timed up to here). */
async function endEpoch(
  run: TrainingRun,
  phase: ActivePhase,
  epoch: number,
  { batches, lr, lossSum }: TrainedBatches,
  started: number,
): Promise<EpochRecord> {
  const step = epoch * run.plan.stepsPerEpoch + batches;
  const trainLoss = lossSum / batches;
  await phase.epochEnd(epoch, trainLoss, { step, epoch: epoch + 1, lr });
  return { epoch: epoch + 1, step, lr, trainLoss, seconds: (performance.now() - started) / 1000 };
}

/** Step 3: test (and validation) metrics into `record`, every `evalEvery` epochs and after the last. */
async function scoreEpoch(run: TrainingRun, record: EpochRecord, stopped: boolean): Promise<void> {
  const { config, data, model, options } = run;
  const done = record.epoch;
  const evalDue =
    config.evalEvery > 0
      ? done % config.evalEvery === 0 || done === config.epochs
      : done === config.epochs;
  // FGE may stop before its budget: its last epoch is scored too.
  if (!((options.evaluateEachEpoch ?? true) && (evalDue || stopped))) return;
  const test = await scoreSplit(model, data.test);
  record.testLoss = test.loss;
  record.testAccuracy = test.accuracy;
  if (data.val) {
    const val = await scoreSplit(model, data.val);
    record.valLoss = val.loss;
    record.valAccuracy = val.accuracy;
  }
}

/**
 * Step 4: what is saved after the epoch. The SWA model when `--swa-score-at` asks for it (before
 * the checkpoint, so a resumed run never lacks a milestone it has passed); compare's branching
 * point; a resume point every `checkpointEvery` epochs and after the last (recorded as the end of
 * the budget when FGE stopped early), never one with weights that are not finite.
 */
async function saveAfterEpoch(
  run: TrainingRun,
  phase: ActivePhase,
  { epoch: done, step }: EpochRecord,
  { lr, stopped }: TrainedBatches,
): Promise<void> {
  const { averager, config, model, options, stores, recorder, plan } = run;
  const swa = phase.at.swa;
  if (averager && swa && !options.plain && config.swaScoreAt?.includes(done)) {
    const milestone = await saveSwaMilestone({
      model,
      averager,
      swa,
      members: stores.members,
      swagDir: stores.swagDir,
      method: config.method,
      epoch: done,
      step,
    });
    recorder.swaMilestoneSaved(milestone);
  }
  if (options.keepAtEpochs?.includes(done) && options.keepStore) {
    await keepBranchPoint(options.keepStore, model, done, done * plan.stepsPerEpoch, lr);
  }
  const last = done === config.epochs || stopped;
  if (stores.checkpoints && (done % (options.checkpointEvery ?? 1) === 0 || last)) {
    if (!(await weightsAreFinite(model))) {
      throw diverged(run, step, 'the weights are no longer finite', lr);
    }
    await saveCheckpoint(run, { epoch: last ? config.epochs : done, step, lr });
  }
}

/** The error for training that diverged at update `step` (1-based), with `lr` that update's rate. */
function diverged(run: TrainingRun, step: number, what: string, lr: number): DivergenceError {
  return new DivergenceError(step, what, lr, run.config.lr, run.recorder.lastGoodEpoch);
}
