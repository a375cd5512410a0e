import type { SnapshotStore } from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs';
import type { RunProgress } from '../run-folder/records.js';
import { pruneAveragerStates, type RunAverager, saveAveragerState } from './averager-state.js';
import type { RunStores } from './run-types.js';

/**
 * Saves a resume point after `epoch` (update `step`): the weights with the optimizer state, the
 * averager state once averaging has begun, then the progress that records it; averager states of
 * checkpoints the store no longer keeps are removed.
 */
export async function saveCheckpoint(
  stores: RunStores,
  model: tf.LayersModel,
  averager: RunAverager | undefined,
  progress: RunProgress,
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
  progress.checkpoint = {
    id: entry.id,
    step,
    epoch,
    ...(averagerFile ? { averager: averagerFile } : {}),
  };
  await stores.saveProgress?.(progress);
  if (stores.averagerDir) {
    const live = (await checkpoints.list()).map((e) => e.step + 1);
    await pruneAveragerStates(stores.averagerDir, live);
  }
}
