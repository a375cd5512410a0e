import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SnapshotCorruptError, SnapshotNotFoundError, type SnapshotStore } from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs';
import { RunFolderError } from '../errors.js';
import type { RunProgress } from '../run-folder/records.js';
import { AveragerStateError, loadAverager, type RunAverager } from './averager-state.js';

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

/**
 * `progress.json`'s record of the checkpoint must agree with the checkpoint's own (its entry in
 * the store: updates and epochs done). A disagreement is a `RunFolderError`: resuming would train
 * another run than the one recorded.
 */
async function assertSameRecord(store: SnapshotStore, recorded: CheckpointRef): Promise<void> {
  const entry = (await store.list().catch(() => [])).find((e) => e.id === recorded.id);
  if (!entry) return; // gone: the fallback below handles it
  if (entry.step + 1 !== recorded.step || entry.epoch !== recorded.epoch) {
    throw new RunFolderError(
      `progress.json records checkpoint ${recorded.id} after epoch ${recorded.epoch} (${recorded.step} updates), but the checkpoint itself was saved after epoch ${entry.epoch} (${entry.step + 1} updates); expected the two to agree: restore progress.json, or start the run over with onerun train --force.`,
    );
  }
}

function damaged(error: unknown): boolean {
  return (
    error instanceof SnapshotCorruptError ||
    error instanceof SnapshotNotFoundError ||
    error instanceof AveragerStateError
  );
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
  /** Models folded into the average by update `step`, as `progress.json` records them. */
  averagedBy: (step: number) => number = () => 0,
): Promise<Restored> {
  await assertSameRecord(store, recorded);
  const attempt = async (ref: CheckpointRef): Promise<Restored> => {
    const expected = needsAverager ? averagedBy(ref.step) : 0;
    if (expected > 0 && (ref.averager === undefined || averagerDir === undefined)) {
      throw new AveragerStateError(
        `averager-${ref.step}.json`,
        `the checkpoint after epoch ${ref.epoch} needs the average of ${expected} models, and no averager state was saved with it`,
      );
    }
    if (expected === 0 || ref.averager === undefined || averagerDir === undefined) {
      await store.loadWeightsInto(ref.id, model, { includeOptimizer: true });
      return { checkpoint: ref };
    }
    // The averager first: a state that fails leaves the model untouched for the next attempt.
    const averager = await loadAverager(averagerDir, ref.averager);
    if (averager.count !== expected) {
      averager.dispose();
      throw new AveragerStateError(
        join(averagerDir, ref.averager),
        `it holds the average of ${averager.count} models, but progress.json records ${expected} by update ${ref.step}`,
      );
    }
    try {
      await store.loadWeightsInto(ref.id, model, { includeOptimizer: true });
    } catch (error) {
      averager.dispose();
      throw error;
    }
    return { checkpoint: ref, averager };
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
    // Averager state is saved with a checkpoint only once averaging has begun; where it had
    // begun, the state must be there and verify (an empty averager would be another run).
    const averager = `averager-${step}.json`;
    const hasAverager =
      averagedBy(step) > 0 ||
      (averagerDir !== undefined && existsSync(join(averagerDir, averager)));
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
