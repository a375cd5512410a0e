import { WEIGHTS_BIN } from './artifacts.js';
import type { SnapshotEntry, SnapshotFile, SnapshotMeta } from './store.js';

/** Snapshot ids are `snap-` and a zero-padded sequence number that a store never reuses. */
export function formatId(seq: number): string {
  return `snap-${String(seq).padStart(6, '0')}`;
}

/** Matches ids made by `formatId` (and nothing that could escape the store's folder). */
export const ID_PATTERN = /^snap-\d{6,}$/;

/** The sequence number of an id made by `formatId`. */
export function seqOf(id: string): number {
  return Number(id.slice('snap-'.length));
}

/** The highest sequence number a store may hand out: its id must still parse back exactly. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

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

const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function fileProblem(file: unknown): string | undefined {
  if (!isObject(file)) return 'a file record is not an object';
  if (typeof file.name !== 'string' || !FILE_NAME.test(file.name)) {
    return `file name ${JSON.stringify(file.name)} is not a plain file name`;
  }
  if (!isCount(file.byteSize)) return `${file.name}: byteSize is not an integer ≥ 0`;
  if (typeof file.checksum !== 'string') return `${file.name}: checksum is not a string`;
  return undefined;
}

/**
 * Why `value` is not a well-formed snapshot entry (every field of the type checked), or
 * `undefined` when it is one. Used on everything read back from disk, so that a damaged or
 * crafted manifest gives a typed error instead of a `TypeError` somewhere later.
 */
export function entryProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'an entry is not an object';
  const { id, step, epoch, learningRate, metrics, tags, createdAt, byteSize, checksum } = value;
  if (typeof id !== 'string' || !ID_PATTERN.test(id) || !Number.isSafeInteger(seqOf(id))) {
    return `id ${JSON.stringify(id)} is not snap-<number>`;
  }
  const where = `${id}:`;
  if (!isCount(step)) return `${where} step is not an integer ≥ 0`;
  if (epoch !== undefined && !isCount(epoch)) return `${where} epoch is not an integer ≥ 0`;
  if (learningRate !== undefined && !Number.isFinite(learningRate)) {
    return `${where} learningRate is not a finite number`;
  }
  if (metrics !== undefined) {
    if (!isObject(metrics) || !Object.values(metrics).every((m) => Number.isFinite(m))) {
      return `${where} metrics is not an object of finite numbers`;
    }
  }
  if (tags !== undefined) {
    if (!isObject(tags) || !Object.values(tags).every((t) => typeof t === 'string')) {
      return `${where} tags is not an object of strings`;
    }
  }
  if (typeof createdAt !== 'string') return `${where} createdAt is not a string`;
  if (!isCount(byteSize)) return `${where} byteSize is not an integer ≥ 0`;
  if (typeof checksum !== 'string') return `${where} checksum is not a string`;
  if (value.files !== undefined) {
    if (!Array.isArray(value.files)) return `${where} files is not a list`;
    for (const file of value.files) {
      const problem = fileProblem(file);
      if (problem) return `${where} ${problem}`;
    }
  }
  if (value.hasOptimizer !== undefined && typeof value.hasOptimizer !== 'boolean') {
    return `${where} hasOptimizer is not a boolean`;
  }
  return undefined;
}
