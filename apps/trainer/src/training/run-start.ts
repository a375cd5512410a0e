import type * as tf from '@tensorflow/tfjs';
import { RunFolderError } from '../errors.js';
import type { RunProgress } from '../run-folder/records.js';
import type { RunAverager } from './averager-state.js';
import { restoreCheckpoint } from './checkpoint-restore.js';
import type { TrainRunOptions } from './run-types.js';

/** Where a `trainRun` call starts: the progress it continues and what the user should know. */
export interface RunStart {
  progress: RunProgress;
  /** Epochs already done (0 unless it resumed or branched). */
  startEpoch: number;
  /** The averager to continue: the one restored with the checkpoint, or the fresh one given. */
  averager: RunAverager | undefined;
  notes: string[];
}

function emptyProgress(): RunProgress {
  return { status: 'running', history: [], lossCurve: [], collections: [], trainSeconds: 0 };
}

/** The progress of `from` up to its checkpoint: what a resumed run keeps. */
function truncateTo(from: RunProgress, step: number, epoch: number): RunProgress {
  return {
    status: 'running',
    ...(from.checkpoint ? { checkpoint: from.checkpoint } : {}),
    history: from.history.filter((h) => h.epoch <= epoch),
    lossCurve: from.lossCurve.filter((p) => p.step <= step),
    collections: from.collections.filter((c) => c.step <= step),
    ...(from.start && from.start.step <= step ? { start: from.start } : {}),
    ...(from.swaMilestones
      ? { swaMilestones: from.swaMilestones.filter((m) => m.epoch <= epoch) }
      : {}),
    trainSeconds: from.history
      .filter((h) => h.epoch <= epoch)
      .reduce((sum, h) => sum + h.seconds, 0),
  };
}

/**
 * Restores the checkpoint to resume from (this run's own, or the one it branches from) into
 * `model`, and clears what the run folder holds beyond it. `averager` is the fresh one of the
 * method (disposed when a restored one replaces it).
 */
export async function startRun(
  options: TrainRunOptions,
  model: tf.LayersModel,
  averager: RunAverager | undefined,
): Promise<RunStart> {
  const start = await restoreResumePoint(options, model, averager);
  await removeUnaccounted(options, start);
  return start;
}

async function restoreResumePoint(
  options: TrainRunOptions,
  model: tf.LayersModel,
  fresh: RunAverager | undefined,
): Promise<RunStart> {
  const { stores } = options;
  const start: RunStart = { progress: emptyProgress(), startEpoch: 0, averager: fresh, notes: [] };
  const resumeFrom = options.resume?.checkpoint ? options.resume : options.branch?.progress;
  if (!resumeFrom?.checkpoint) return start;
  const store = options.resume?.checkpoint ? stores.checkpoints : options.branch?.store;
  if (!store) throw new RunFolderError('A checkpoint to resume from, but no checkpoint store.');
  const restored = await restoreCheckpoint(
    store,
    model,
    resumeFrom.checkpoint,
    stores.averagerDir,
    fresh !== undefined,
    (step) => resumeFrom.collections.filter((c) => c.kind === 'average' && c.step <= step).length,
  );
  if (restored.note) start.notes.push(restored.note);
  const ckpt = restored.checkpoint;
  if (fresh && restored.averager) {
    fresh.dispose();
    start.averager = restored.averager;
  }
  if (ckpt) {
    start.startEpoch = ckpt.epoch;
    start.progress = truncateTo(resumeFrom, ckpt.step, ckpt.epoch);
    start.progress.checkpoint = ckpt;
    if (options.branch) delete start.progress.checkpoint;
  }
  return start;
}

/**
 * The run folder must hold exactly what its progress accounts for: members saved after the
 * last checkpoint (or by a run that never checkpointed) are saved again by this run, so they
 * go now rather than end up twice in the ensemble. Only what a run writes is ever deleted.
 */
async function removeUnaccounted(options: TrainRunOptions, start: RunStart): Promise<void> {
  const { stores, config } = options;
  const { progress } = start;
  const known = new Set(
    [
      ...progress.collections.map((c) => c.id),
      progress.start?.id,
      ...(progress.swaMilestones ?? []).flatMap((m) => [m.id, m.staleId]),
    ].filter(Boolean),
  );
  const unknown = (await stores.members.list()).filter(
    (e) => !known.has(e.id) && e.tags?.method === config.method,
  );
  for (const entry of unknown) await stores.members.delete(entry.id);
  if (start.startEpoch === 0 && stores.checkpoints && !options.branch) {
    const stale = (await stores.checkpoints.list()).filter((e) => e.tags?.kind === 'checkpoint');
    for (const entry of stale) await stores.checkpoints.delete(entry.id);
    if (unknown.length + stale.length > 0 && !options.resume) {
      start.notes.push(restartNote(unknown.length, stale.length));
    }
  }
}

function restartNote(snapshots: number, checkpoints: number): string {
  return `no resume point recorded: the run starts over, replacing the ${snapshots} snapshot(s) and ${checkpoints} checkpoint(s) a previous attempt left`;
}
