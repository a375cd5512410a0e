import type { LayersModel } from '@tensorflow/tfjs-layers';

/** What the caller says about a snapshot when saving it. */
export interface SnapshotMeta {
  /** Optimizer update after which the snapshot was taken (0-based count of updates done). */
  step: number;
  epoch?: number;
  learningRate?: number;
  /** Numbers measured at save time, e.g. `{ loss: 0.31, valAccuracy: 0.88 }`. */
  metrics?: Record<string, number>;
  /** Free-form labels, e.g. `{ method: 'sse', cycle: '3' }`. */
  tags?: Record<string, string>;
}

/** A snapshot as listed by a store. */
export interface SnapshotEntry extends SnapshotMeta {
  id: string;
  /** ISO-8601 time of the save. */
  createdAt: string;
  /** Bytes of the weights. */
  byteSize: number;
  /** Checksum of the weights, verified on load. */
  checksum: string;
}

/** Saves, lists and loads model snapshots. Implemented by `FileSnapshotStore` and `MemorySnapshotStore`. */
export interface SnapshotStore {
  save(model: LayersModel, meta: SnapshotMeta): Promise<SnapshotEntry>;
  /** Snapshots in the order they were saved (oldest first). */
  list(): Promise<SnapshotEntry[]>;
  load(id: string): Promise<LayersModel>;
  loadWeightsInto(id: string, model: LayersModel): Promise<void>;
  delete(id: string): Promise<void>;
}
