import { WEIGHTS_BIN } from './artifacts.js';
import type { SnapshotEntry, SnapshotFile, SnapshotMeta } from './store.js';

/** Snapshot ids are `snap-` and a zero-padded sequence number that a store never reuses. */
export function formatId(seq: number): string {
  return `snap-${String(seq).padStart(6, '0')}`;
}

/** Matches ids made by `formatId` (and nothing that could escape the store's folder). */
export const ID_PATTERN = /^snap-\d{6,}$/;

/** The listed entry of a new snapshot. */
export function makeEntry(
  id: string,
  meta: SnapshotMeta,
  files: SnapshotFile[],
  hasOptimizer: boolean,
): SnapshotEntry {
  const weights = files.find((f) => f.name === WEIGHTS_BIN)!;
  return {
    id,
    ...meta,
    createdAt: new Date().toISOString(),
    byteSize: weights.byteSize,
    checksum: weights.checksum,
    files,
    hasOptimizer,
  };
}

/** A deep copy, so callers cannot change a store's entries. */
export function copyEntry(entry: SnapshotEntry): SnapshotEntry {
  return structuredClone(entry);
}
