import { seededRandom, shuffledIndices } from '@onerun/core';
import { getOptimizerLearningRate } from '@onerun/schedules';
import * as tf from '@tensorflow/tfjs';
import { LossWindow } from './loss-window.js';
import { recordCollections } from './phase-callbacks.js';
import type { ActivePhase } from './phase-driver.js';
import type { SgdUpdate } from './sgd-update.js';
import { divergedAt, type TrainingRun } from './training-run.js';

/**
 * The order of the training examples in `epoch`: a Fisher–Yates shuffle seeded from the run's
 * seed and the epoch, so a resumed run sees exactly the batches an uninterrupted one would.
 */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  return shuffledIndices(n, seededRandom((seed * 1_000_003 + epoch * 7_919 + 17) >>> 0));
}

/** What an epoch's batches leave for its end. */
export interface EpochBatches {
  /** Batches trained: all of the epoch's unless the method stopped. */
  batches: number;
  /** The learning rate of the last batch. */
  lr: number;
  /** Sum of the batches' losses. */
  lossSum: number;
  /** `performance.now()` when the batches began. */
  started: number;
  /** FGE stops right after its last collection (`model.stopTraining`, as in `model.fit`). */
  stopped: boolean;
}

/**
 * Trains the batches of `epoch` in `epochOrder`, driving the phase's callbacks around each
 * update, recording collections and the loss curve, and reporting each batch to the progress sink.
 */
export async function trainEpochBatches(
  run: TrainingRun,
  { at, list }: ActivePhase,
  update: SgdUpdate,
  epoch: number,
): Promise<EpochBatches> {
  const { config, data, model, optimizer, plan, progress, tally } = run;
  const train = data.train;
  const E = plan.stepsPerEpoch;
  const sink = run.options.progress;
  const extraCallbacks = (run.options.extraCallbacks?.length ?? 0) > 0;
  await list.onEpochBegin(epoch);
  const order = epochOrder(config.seed, epoch, train.size);
  const started = performance.now();
  const window = new LossWindow(Math.max(1, Math.ceil(E / 25)));
  let lr = 0;
  let batches = 0;
  let stopped = false;
  for (let b = 0; b < E; b++) {
    const begin = b * config.batchSize;
    const size = Math.min(config.batchSize, train.size - begin);
    let t0 = performance.now();
    await list.onBatchBegin(b, { batch: b, size });
    tally.callbackMs += performance.now() - t0;
    lr = getOptimizerLearningRate(optimizer);
    const ce = tf.tidy(() => {
      const batch = train.take(order.subarray(begin, begin + size));
      return update.step(batch.xs, batch.ys);
    });
    window.add(ce);
    const before = at.collected();
    t0 = performance.now();
    // The caller's extra callbacks (tfjs CustomCallbacks) read and dispose the tensors in their
    // logs, and `ce` must live until the loss window reads it: they get a copy of the loss. The
    // packages' callbacks only read it, so plain runs add no kernel here.
    const loss = extraCallbacks ? tf.clone(ce) : ce;
    await list.onBatchEnd(b, { batch: b, size, loss } as unknown as tf.Logs);
    if (loss !== ce && !loss.isDisposed) loss.dispose();
    tally.callbackMs += performance.now() - t0;
    const step = epoch * E + b;
    batches = b + 1;
    recordCollections(progress, plan, at, before, {
      step: step + 1,
      epoch: epoch + (b + 1) / E,
      lr,
    });
    stopped = model.stopTraining;
    if (window.full || b === E - 1 || stopped) {
      const batchLr = lr;
      const loss = await window.read(step, model, (s, what) => divergedAt(run, s, what, batchLr));
      progress.lossCurve.push({ step: step + 1, loss });
    }
    sink?.update({
      epoch,
      batch: b + 1,
      lr,
      ...(window.last !== undefined ? { loss: window.last } : {}),
    });
    if (stopped) break;
  }
  return { batches, lr, lossSum: window.sum, started, stopped };
}
