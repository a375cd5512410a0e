export type { SnapshotEntry, SnapshotMeta, SnapshotStore } from './store.js';
