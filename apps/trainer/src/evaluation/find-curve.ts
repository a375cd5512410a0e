import { readWeights } from '@onerun/core';
import {
  bezierCurve,
  encodeCurve,
  evaluatePath,
  fitCurve,
  type PathEvaluation,
  straightLine,
  summarizePath,
} from '@onerun/fge';
import type { SnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import type { LoadedData } from '../data/load.js';
import { writeFileAtomic, writeJson } from '../run-folder/files.js';
import type { RunConfig } from '../training/config.js';
import { createModel } from '../training/loop.js';
import { standardSchedule, stepsPerEpoch } from '../training/plan.js';
import { yieldToSignals } from '../training/yield-to-signals.js';
import { type SplitScore, scoreSplit } from './measure.js';

/** One end of a curve: a snapshot in a store. */
export interface CurveEnd {
  label: string;
  store: SnapshotStore;
  id: string;
}

/** Options of `findCurve`. */
export interface CurveOptions {
  /** Epochs of curve training over the training split. */
  epochs: number;
  /** Evenly spaced points in [0, 1] at which both paths are evaluated. */
  points: number;
  lr: number;
  batchSize: number;
  weightDecay: number;
  seed: number;
  /**
   * Training examples used to recompute batch-norm statistics and measure the training loss at
   * each point (the first N of the training split); the whole split when larger.
   */
  evalExamples: number;
}

/** Losses and errors along one path. */
export interface PathResult {
  name: string;
  t: number[];
  trainLoss: number[];
  trainError: number[];
  testLoss: number[];
  testError: number[];
  /** Highest training loss minus the linear interpolation of the ends' losses at that t. */
  lossBarrier: number;
  /** Highest test error minus the same interpolation of the ends' test errors. */
  testErrorBarrier: number;
}

/** What `findCurve` produced. */
export interface CurveResult {
  ends: [string, string];
  curve: PathResult;
  line: PathResult;
  /** Mean curve-training loss per epoch. */
  fitLoss: number[];
  seconds: number;
}

function toResult(path: PathEvaluation, test: SplitScore[]): PathResult {
  const testLoss = test.map((s) => s.loss);
  const testError = test.map((s) => 1 - s.accuracy);
  return {
    name: path.name,
    t: path.t,
    trainLoss: path.loss,
    trainError: path.error,
    testLoss,
    testError,
    lossBarrier: path.summary.lossBarrier,
    testErrorBarrier: summarizePath(path.t, testLoss, testError).errorBarrier,
  };
}

/**
 * Mode connectivity between two trained models with `@onerun/fge`: trains a one-bend Bezier
 * curve between their weights (`fitCurve`, standard schedule from `lr`, weight decay on φ(t)),
 * then measures training loss/error and test loss/error at `points` positions along the curve
 * and along the straight line, recomputing batch-norm statistics at every point
 * (`evaluatePath`). With `outDir`, the curve is saved there in the `onerun-curve` format.
 */
export async function findCurve(
  config: RunConfig,
  data: LoadedData,
  a: CurveEnd,
  b: CurveEnd,
  options: CurveOptions,
  outDir?: string,
): Promise<CurveResult> {
  const started = performance.now();
  const { model, optimizer } = await createModel(config, data);
  const train = data.train;
  const n = Math.min(options.evalExamples, train.size);
  // The curve's training data as tensors: fitCurve shuffles a tensor source every epoch.
  const whole = train.range(0, train.size);
  const { xs: evalXs, ys: evalYs } =
    n === train.size
      ? whole
      : { xs: tf.slice(whole.xs, [0], [n]), ys: tf.slice(whole.ys, [0], [n]) };
  const ends: tf.Tensor[][] = [];
  try {
    for (const end of [a, b]) {
      await end.store.loadWeightsInto(end.id, model);
      ends.push(readWeights(model, 'trainable'));
    }
    const curve = bezierCurve(ends[0]!, ends[1]!, 1);
    const line = straightLine(ends[0]!, ends[1]!);
    try {
      const steps = options.epochs * stepsPerEpoch(train.size, options.batchSize);
      const history = await fitCurve(model, curve, whole, {
        epochs: options.epochs,
        batchSize: options.batchSize,
        schedule: standardSchedule(options.lr, steps),
        weightDecay: options.weightDecay,
        seed: options.seed,
        // Costs one loss read per batch; lets Ctrl-C and SIGTERM through during long epochs.
        callbacks: { onBatchEnd: yieldToSignals },
      });
      const measure = async (path: typeof curve) => {
        const test: SplitScore[] = [];
        const evaluation = await evaluatePath(
          model,
          path,
          { xs: evalXs, ys: evalYs },
          {
            points: options.points,
            bnData: evalXs,
            batchSize: 512,
            onPoint: async (_point, _i, m) => {
              test.push(await scoreSplit(m, data.test));
              await yieldToSignals();
            },
          },
        );
        return toResult(evaluation, test);
      };
      const result: CurveResult = {
        ends: [a.label, b.label],
        curve: await measure(curve),
        line: await measure(line),
        fitLoss: history.epochs.map((e) => e.loss),
        seconds: (performance.now() - started) / 1000,
      };
      if (outDir) {
        const encoded = await encodeCurve(curve, {
          includeEnds: false,
          meta: { a: a.label, b: b.label, aId: a.id, bId: b.id },
        });
        await writeFileAtomic(`${outDir}/curve.bin`, new Uint8Array(encoded.data));
        await writeJson(`${outDir}/curve.json`, encoded.manifest);
      }
      return result;
    } finally {
      curve.dispose();
      line.dispose();
    }
  } finally {
    tf.dispose(ends.flat());
    if (evalXs !== whole.xs) tf.dispose([evalXs, evalYs]);
    tf.dispose([whole.xs, whole.ys]);
    model.dispose();
    optimizer.dispose();
  }
}
