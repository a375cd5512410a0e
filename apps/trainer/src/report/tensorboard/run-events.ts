import { join } from 'node:path';
import type { RunMetrics } from '../../evaluation/score-run.js';
import type { EpochRecord, RunProgress } from '../../run-folder/records.js';
import type { ProgressSink } from '../../training/loop.js';
import { EventFileWriter } from './event-file.js';

export const TENSORBOARD_DIR = 'tensorboard';

/**
 * A run's TensorBoard writer: a progress sink for training, then `evaluation` for the end. The
 * tags its event file holds:
 * - every update: `train/learning_rate`; `train/loss` each time a window of batch losses is read
 *   (the mean over the window ending at that update, as `progress.json`'s loss curve);
 * - every epoch (at its last update): `epoch/train_loss`, `test/accuracy`, `test/nll`,
 *   `val/accuracy`, `val/nll` when measured;
 * - after training, at the update of each collection: `ensemble/test_accuracy`,
 *   `ensemble/test_nll` (the ensemble of the members collected so far, SSE/FGE/baseline) or
 *   `swa/models_averaged` and, where the run scored the average (its end, `--swa-score-at`),
 *   `swa/test_accuracy`, `swa/test_nll` and the same without the BN recompute (`swa-stale-bn/…`).
 */
export interface RunEvents {
  sink: ProgressSink;
  /** The scores of the collected models, at the update of each collection. */
  evaluation(progress: RunProgress, metrics: RunMetrics): void;
  path: string;
}

/** Opens a new event file in `<dir>/tensorboard/<label>` (one per training session). */
export function runEvents(dir: string, label: string): RunEvents {
  const writer = new EventFileWriter(join(dir, TENSORBOARD_DIR, label));
  let perEpoch = 1;
  let lastLoss: number | undefined;
  const sink: ProgressSink = {
    begin(info) {
      perEpoch = info.stepsPerEpoch;
    },
    update(info) {
      const step = info.epoch * perEpoch + info.batch;
      writer.scalar('train/learning_rate', info.lr, step);
      if (info.loss !== undefined && info.loss !== lastLoss) {
        writer.scalar('train/loss', info.loss, step);
        lastLoss = info.loss;
      }
    },
    epochEnd(r: EpochRecord) {
      writer.scalars(r.step, [
        { tag: 'epoch/train_loss', value: r.trainLoss },
        ...(r.testAccuracy !== undefined ? [{ tag: 'test/accuracy', value: r.testAccuracy }] : []),
        ...(r.testLoss !== undefined ? [{ tag: 'test/nll', value: r.testLoss }] : []),
        ...(r.valAccuracy !== undefined ? [{ tag: 'val/accuracy', value: r.valAccuracy }] : []),
        ...(r.valLoss !== undefined ? [{ tag: 'val/nll', value: r.valLoss }] : []),
      ]);
      writer.flush();
    },
    end() {
      writer.flush();
    },
  };
  return {
    sink,
    path: writer.path,
    evaluation(progress, metrics) {
      if (metrics.swa) {
        const averages = progress.collections.filter((c) => c.kind === 'average');
        for (const [i, c] of averages.entries())
          writer.scalar('swa/models_averaged', i + 1, c.step);
        const scored = [
          ...(metrics.swa.atEpochs ?? []).map((at) => ({
            step: progress.history.find((h) => h.epoch === at.epoch)?.step,
            bn: at.result,
            stale: at.staleBatchNorm,
          })),
          {
            step: averages.at(-1)?.step ?? progress.history.at(-1)?.step,
            bn: metrics.result,
            stale: metrics.swa.staleBatchNorm,
          },
        ];
        for (const { step, bn, stale } of scored) {
          if (step === undefined) continue;
          writer.scalars(step, [
            { tag: 'swa/test_accuracy', value: bn.accuracy },
            { tag: 'swa/test_nll', value: bn.nll },
            { tag: 'swa-stale-bn/test_accuracy', value: stale.accuracy },
            { tag: 'swa-stale-bn/test_nll', value: stale.nll },
          ]);
        }
      } else {
        // The ensemble of the first k members is the ensemble as it stood after collection k.
        for (const p of metrics.sizeCurve) {
          const step = metrics.members[p.k - 1]?.step;
          if (step === undefined) continue;
          writer.scalars(step, [
            { tag: 'ensemble/test_accuracy', value: p.accuracy },
            { tag: 'ensemble/test_nll', value: p.nll },
            { tag: 'ensemble/members', value: p.k },
          ]);
        }
      }
      writer.flush();
    },
  };
}
