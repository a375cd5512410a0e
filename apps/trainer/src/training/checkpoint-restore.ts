import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SnapshotCorruptError, SnapshotNotFoundError, type SnapshotStore } from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs';
import type { RunProgress } from '../run-folder/records.js';
import { loadAverager, type RunAverager } from './averager-state.js';

/** A checkpoint as `progress.json` records it. */
export type CheckpointRef = NonNullable<RunProgress['checkpoint']>;

/** What `restoreCheckpoint` restored, and what to tell the user about it. */
export interface Restored {
  /** The checkpoint restored; `undefined` when none was usable (start over). */
  checkpoint: CheckpointRef | undefined;
  /** The averager saved with it (a new object the caller owns). */
  averager?: RunAverager;
  /** Set when the recorded checkpoint could not be used. */
  note?: string;
}

function damaged(error: unknown): boolean {
  return error instanceof SnapshotCorruptError || error instanceof SnapshotNotFoundError;
}

/**
 * Restores the recorded checkpoint (weights, optimizer state, averager state) into `model`.
 * When it is damaged or gone, falls back to the newest older checkpoint that verifies, and says
 * so; with none left, the run starts over. Stores verify every file before writing anything
 * into the model, so a failed attempt leaves the model as it was.
 */
export async function restoreCheckpoint(
  store: SnapshotStore,
  model: tf.LayersModel,
  recorded: CheckpointRef,
  averagerDir: string | undefined,
  needsAverager: boolean,
): Promise<Restored> {
  const attempt = async (ref: CheckpointRef): Promise<Restored> => {
    await store.loadWeightsInto(ref.id, model, { includeOptimizer: true });
    if (!needsAverager || ref.averager === undefined || averagerDir === undefined) {
      return { checkpoint: ref };
    }
    return { checkpoint: ref, averager: await loadAverager(averagerDir, ref.averager) };
  };
  let failure: string;
  try {
    return await attempt(recorded);
  } catch (error) {
    if (!damaged(error) && !needsAverager) throw error;
    failure = (error as Error).message;
  }
  const older = (await store.list().catch(() => []))
    .filter((e) => e.epoch !== undefined && e.epoch < recorded.epoch)
    .sort((a, b) => (b.epoch as number) - (a.epoch as number));
  for (const entry of older) {
    const step = entry.step + 1;
    // Averager state is saved with a checkpoint only once averaging has begun.
    const averager = `averager-${step}.json`;
    const hasAverager = averagerDir !== undefined && existsSync(join(averagerDir, averager));
    const ref: CheckpointRef = {
      id: entry.id,
      step,
      epoch: entry.epoch as number,
      ...(hasAverager ? { averager } : {}),
    };
    try {
      const restored = await attempt(ref);
      return {
        ...restored,
        note: `the checkpoint after epoch ${recorded.epoch} (${recorded.id}) cannot be used (${failure}); resumed from the older checkpoint after epoch ${ref.epoch} (${ref.id})`,
      };
    } catch (error) {
      if (!damaged(error) && !needsAverager) throw error;
    }
  }
  return {
    checkpoint: undefined,
    note: `the checkpoint after epoch ${recorded.epoch} (${recorded.id}) cannot be used (${failure}) and no older one verifies; the run starts over`,
  };
}
