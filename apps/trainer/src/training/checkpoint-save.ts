import type { SnapshotStore } from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs';
import { pruneAveragerStates, saveAveragerState } from './averager-state.js';
import type { TrainingRun } from './training-run.js';

/**
 * Saves a resume point after `epoch` (update `step`): the weights with the optimizer state, the
 * averager state once averaging has begun, then the progress that records it; averager states of
 * checkpoints the store no longer keeps are removed.
 */
export async function saveCheckpoint(
  { stores, model, averager, recorder }: TrainingRun,
  at: { epoch: number; step: number; lr: number },
): Promise<void> {
  const { epoch, step, lr } = at;
  const checkpoints = stores.checkpoints as SnapshotStore;
  let averagerFile: string | undefined;
  if (averager && averager.count > 0 && stores.averagerDir) {
    averagerFile = await saveAveragerState(stores.averagerDir, step, averager);
  }
  const entry = await checkpoints.save(
    model,
    { step: step - 1, epoch, learningRate: lr, tags: { kind: 'checkpoint' } },
    { includeOptimizer: true },
  );
  await recorder.checkpointSaved({
    id: entry.id,
    step,
    epoch,
    ...(averagerFile ? { averager: averagerFile } : {}),
  });
  if (stores.averagerDir) {
    const live = (await checkpoints.list()).map((e) => e.step + 1);
    await pruneAveragerStates(stores.averagerDir, live);
  }
}

/**
 * A checkpoint kept in `store` after `epoch` (`step` updates done), for compare's FGE branch off
 * the baseline run; not a resume point of this run.
 */
export async function keepBranchPoint(
  store: SnapshotStore,
  model: tf.LayersModel,
  epoch: number,
  step: number,
  lr: number,
): Promise<void> {
  await store.save(
    model,
    { step: step - 1, epoch, learningRate: lr, tags: { kind: 'branch' } },
    { includeOptimizer: true },
  );
}
