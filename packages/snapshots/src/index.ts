export {
  type FitLogs,
  SnapshotCallback,
  type SnapshotCallbackOptions,
  snapshotCallback,
} from './callback.js';
export type { ChecksumAlgorithm } from './checksum.js';
export {
  OptimizerStateError,
  SnapshotCorruptError,
  SnapshotError,
  SnapshotLockError,
  SnapshotNotFoundError,
  SnapshotReadOnlyError,
  SnapshotWriteError,
} from './errors.js';
export { fileSnapshotIO } from './file-io.js';
export { FileSnapshotStore, type FileSnapshotStoreOptions } from './file-store.js';
export { MemorySnapshotStore, type MemorySnapshotStoreOptions } from './memory-store.js';
export { applyRetention, type RetentionPolicy } from './retention.js';
export type {
  LoadWeightsOptions,
  SaveOptions,
  SnapshotEntry,
  SnapshotFile,
  SnapshotMeta,
  SnapshotStore,
} from './store.js';
