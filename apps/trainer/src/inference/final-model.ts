import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KIND_TAG, selectSnapshots } from '@onerun/ensemble';
import {
  type FileSnapshotStore,
  SnapshotCorruptError,
  type SnapshotEntry,
  SnapshotNotFoundError,
} from '@onerun/snapshots';
import type * as tf from '@tensorflow/tfjs';
import { RunFolderError, UsageError } from '../errors.js';
import { RunFolder } from '../run-folder/folder.js';
import type { RunFile, RunProgress } from '../run-folder/records.js';

/** The snapshot kind (`tags.kind`) that holds a method's final prediction. */
export function finalKindOf(method: RunFile['config']['method']): 'member' | 'swa' {
  return method === 'swa' ? 'swa' : 'member';
}

/** A finished run's final prediction: which snapshots, combined how. */
export interface FinalModel {
  folder: RunFolder;
  runFile: RunFile;
  store: FileSnapshotStore;
  /** `member` (baseline, SSE, FGE: the mean of the members' probabilities) or `swa`. */
  kind: 'member' | 'swa';
  /** The snapshots, in ensemble order. */
  ids: string[];
  /** `ensemble of 5`, `single model`, `SWA average of 3 (batch norm recomputed)`. */
  label: string;
}

/**
 * The final model of a finished run folder — for baseline, SSE and FGE the ensemble of its
 * collected members, for SWA the averaged model with batch norm recomputed — after checking
 * that the run is finished and that its snapshot store holds exactly what `progress.json`
 * recorded. A comparison folder, an unfinished run or a store that disagrees with its progress
 * is a `RunFolderError` / `UsageError` (exit 2).
 */
export async function finalModelOf(dir: string): Promise<FinalModel> {
  const folder = new RunFolder(dir);
  if (existsSync(join(folder.dir, 'compare.json'))) {
    throw new UsageError(
      `${folder.dir} is a comparison; pass one of its runs, e.g. ${join(folder.dir, 'sse')}.`,
    );
  }
  const runFile = await folder.requireRunFile();
  const progress = await folder.readProgress();
  if (progress?.status !== 'done') {
    throw new RunFolderError(
      `${folder.dir} holds an unfinished ${runFile.config.method} run (progress.json status '${progress?.status ?? 'missing'}'); finish it with onerun train --out ${folder.dir}.`,
    );
  }
  const store = folder.members();
  const entries = await store.list();
  const kind = finalKindOf(runFile.config.method);
  checkAgainstProgress(folder.dir, entries, progress, kind);
  const ids = selectSnapshots(entries, { kind });
  const averaged = entries.find((e) => e.id === ids[0])?.tags?.averaged;
  const label =
    kind === 'swa'
      ? `SWA average of ${averaged ?? '?'} (batch norm recomputed)`
      : ids.length === 1
        ? 'single model'
        : `ensemble of ${ids.length}`;
  return { folder, runFile, store, kind, ids, label };
}

/**
 * The store must hold every snapshot `progress.json` names and, of the final kind, only those
 * (members: exactly the recorded collections, in order; SWA: one averaged model).
 */
function checkAgainstProgress(
  dir: string,
  entries: SnapshotEntry[],
  progress: RunProgress,
  kind: 'member' | 'swa',
): void {
  const listed = new Set(entries.map((e) => e.id));
  const recorded = [
    ...progress.collections.flatMap((c) => (c.id ? [c.id] : [])),
    ...(progress.start ? [progress.start.id] : []),
    ...(progress.swaMilestones ?? []).flatMap((m) => [m.id, m.staleId]),
  ];
  const missing = recorded.filter((id) => !listed.has(id));
  const disagree = (what: string) =>
    new RunFolderError(
      `${dir}: the snapshot store disagrees with progress.json (${what}); the run folder is damaged — retrain it with onerun train --force --out ${dir}.`,
    );
  if (missing.length > 0) throw disagree(`missing ${missing.join(', ')}`);
  const ofKind = entries.filter((e) => e.tags?.[KIND_TAG] === kind).map((e) => e.id);
  if (kind === 'member') {
    const members = progress.collections.flatMap((c) => (c.id ? [c.id] : []));
    if (members.join() !== ofKind.join()) {
      throw disagree(
        `members ${ofKind.join(', ') || 'none'} in the store, ${members.join(', ') || 'none'} recorded`,
      );
    }
  } else if (ofKind.length !== 1) {
    throw disagree(`${ofKind.length} averaged SWA models in the store, expected 1`);
  }
}

/**
 * Loads one snapshot of the final model; a snapshot whose files are missing or damaged is a
 * `RunFolderError` naming it (exit 2), not an internal failure.
 */
export async function loadFinalMember(
  final: Pick<FinalModel, 'store' | 'folder'>,
  id: string,
): Promise<tf.LayersModel> {
  try {
    return await final.store.load(id);
  } catch (error) {
    if (error instanceof SnapshotCorruptError || error instanceof SnapshotNotFoundError) {
      throw new RunFolderError(
        `${final.folder.dir}: snapshot ${id} of the final model cannot be read (${error.message}); the run folder is damaged.`,
      );
    }
    throw error;
  }
}
