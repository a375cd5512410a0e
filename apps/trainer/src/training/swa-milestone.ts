import { readWeights, writeWeights } from '@onerun/core';
import type { SnapshotStore } from '@onerun/snapshots';
import { type SwaCallback, Swag } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import type { SwaMilestone } from '../run-folder/records.js';
import { MILESTONE_KINDS } from '../run-folder/variants.js';
import { type RunAverager, saveAverager } from './averager-state.js';

export { MILESTONE_KINDS };

/** Name of SWAG's state file saved at `epoch` (in the run's `swag/`). */
export function milestoneSwagName(epoch: number): string {
  return `swag-at-${epoch}`;
}

/**
 * Saves the SWA model as it would be if training ended after `epoch`: the average written into
 * the model, once with the SGD iterate's batch-norm statistics and once with recomputed ones
 * (`swa.finalize`), plus SWAG's state when the run fits one. The model's weights, batch-norm
 * statistics included, are put back afterwards, so training continues exactly as without it.
 */
export async function saveSwaMilestone(args: {
  model: tf.LayersModel;
  averager: RunAverager;
  swa: SwaCallback;
  members: SnapshotStore;
  swagDir: string | undefined;
  method: string;
  epoch: number;
  step: number;
}): Promise<SwaMilestone> {
  const { model, averager, swa, members, epoch, step } = args;
  const iterate = readWeights(model);
  try {
    const meta = (kind: string) => ({
      step: step - 1,
      epoch,
      tags: { method: args.method, kind, epoch: String(epoch), averaged: String(averager.count) },
    });
    averager.copyTo(model);
    const stale = await members.save(model, meta(MILESTONE_KINDS.stale));
    await swa.finalize(model);
    const recomputed = await members.save(model, meta(MILESTONE_KINDS.bn));
    let swag: string | undefined;
    if (averager instanceof Swag && args.swagDir) {
      swag = await saveAverager(args.swagDir, milestoneSwagName(epoch), averager);
    }
    return {
      epoch,
      averaged: averager.count,
      id: recomputed.id,
      staleId: stale.id,
      ...(swag ? { swag } : {}),
    };
  } finally {
    writeWeights(model, iterate);
    tf.dispose(iterate);
  }
}
