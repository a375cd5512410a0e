import type { SwaCallback } from '@onerun/swa';
import { scoreSplit } from '../evaluation/measure.js';
import type { EpochRecord } from '../run-folder/records.js';
import { saveCheckpoint } from './checkpoint-save.js';
import { weightsAreFinite } from './divergence.js';
import type { EpochBatches } from './epoch-batches.js';
import { recordCollections } from './phase-callbacks.js';
import type { ActivePhase } from './phase-driver.js';
import { saveSwaMilestone } from './swa-milestone.js';
import { divergedAt, type TrainingRun } from './training-run.js';

/**
 * The end of `epoch`, after its batches: the callbacks' epoch end, the epoch's record (scored
 * when due), then what is saved after it — SWA milestones, a kept branching point, a checkpoint.
 * `swa` is the SWA callback trained with, if any.
 */
export async function endEpoch(
  run: TrainingRun,
  phase: ActivePhase,
  epoch: number,
  trained: EpochBatches,
  swa: SwaCallback | undefined,
): Promise<void> {
  const record = await closeEpoch(run, phase, epoch, trained);
  await scoreEpoch(run, record, trained.stopped);
  run.progress.history.push(record);
  run.options.progress?.epochEnd(record);
  const done = epoch + 1;
  await saveSwaMilestoneIfDue(run, swa, done, record.step);
  await keepBranchIfDue(run, done, trained.lr);
  await checkpointIfDue(run, done, record.step, trained.lr, trained.stopped);
}

/** Ends the epoch's callbacks and returns its record (timed up to here), tallying its time. */
async function closeEpoch(
  run: TrainingRun,
  { at, list }: ActivePhase,
  epoch: number,
  { batches, lr, lossSum, started }: EpochBatches,
): Promise<EpochRecord> {
  const { config, data, plan, progress, tally } = run;
  const seconds = (performance.now() - started) / 1000;
  const record: EpochRecord = {
    epoch: epoch + 1,
    step: epoch * plan.stepsPerEpoch + batches,
    lr,
    trainLoss: lossSum / batches,
    seconds,
  };
  const before = at.collected();
  const t0 = performance.now();
  await list.onEpochEnd(epoch, { loss: record.trainLoss });
  tally.callbackMs += performance.now() - t0;
  recordCollections(progress, plan, at, before, { step: record.step, epoch: epoch + 1, lr });
  record.seconds = (performance.now() - started) / 1000;
  tally.trainedSeconds += record.seconds;
  tally.trainedExamples += Math.min(data.train.size, batches * config.batchSize);
  progress.trainSeconds += record.seconds;
  return record;
}

/** Test (and validation) metrics into `record`, every `evalEvery` epochs and after the last. */
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

/** The SWA model as it stands after `done` epochs, when `--swa-score-at` asks for it. */
async function saveSwaMilestoneIfDue(
  run: TrainingRun,
  swa: SwaCallback | undefined,
  done: number,
  step: number,
): Promise<void> {
  const { averager, config, model, options, stores, progress } = run;
  if (!(averager && swa && !options.plain && config.swaScoreAt?.includes(done))) return;
  // Before the checkpoint, so a resumed run never lacks a milestone it has passed.
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
  progress.swaMilestones = [...(progress.swaMilestones ?? []), milestone];
}

/** A checkpoint kept in `keepStore` after the epochs of `keepAtEpochs` (compare's FGE branch). */
async function keepBranchIfDue(run: TrainingRun, done: number, lr: number): Promise<void> {
  const { options, model, plan } = run;
  if (!(options.keepAtEpochs?.includes(done) && options.keepStore)) return;
  await options.keepStore.save(
    model,
    {
      step: done * plan.stepsPerEpoch - 1,
      epoch: done,
      learningRate: lr,
      tags: { kind: 'branch' },
    },
    { includeOptimizer: true },
  );
}

/**
 * A resume point every `checkpointEvery` epochs and after the last (recorded as the end of the
 * budget when FGE stopped early); never one with weights that are not finite.
 */
async function checkpointIfDue(
  run: TrainingRun,
  done: number,
  step: number,
  lr: number,
  stopped: boolean,
): Promise<void> {
  const { config, stores, model, averager, progress, options } = run;
  const last = done === config.epochs || stopped;
  if (!(stores.checkpoints && (done % (options.checkpointEvery ?? 1) === 0 || last))) return;
  if (!(await weightsAreFinite(model))) {
    throw divergedAt(run, step, 'the weights are no longer finite', lr);
  }
  await saveCheckpoint(stores, model, averager, progress, {
    epoch: last ? config.epochs : done,
    step,
    lr,
  });
}
