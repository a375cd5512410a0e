import type { LayersModel } from '@tensorflow/tfjs-layers';

/** What the caller says about a snapshot when saving it. */
export interface SnapshotMeta {
  /** Index of the optimizer update after which the snapshot was taken (0-based). */
  step: number;
  epoch?: number;
  learningRate?: number;
  /** Numbers measured at save time, e.g. `{ loss: 0.31, valAccuracy: 0.88 }`. */
  metrics?: Record<string, number>;
  /** Free-form labels, e.g. `{ method: 'sse', cycle: '3' }`. */
  tags?: Record<string, string>;
}

/** One file of a snapshot, as recorded at save time and verified on load. */
export interface SnapshotFile {
  /** Name inside the snapshot folder: `model.json`, `weights.bin`, `optimizer.json`, `optimizer.bin`. */
  name: string;
  byteSize: number;
  /**
   * `<algorithm>:<lowercase hex>` of the file's bytes: `crc32:` and 8 hex digits, or `sha256:`
   * and 64 (see `FileSnapshotStoreOptions.checksum`).
   */
  checksum: string;
}

/** A snapshot as listed by a store. */
export interface SnapshotEntry extends SnapshotMeta {
  id: string;
  /** ISO-8601 time of the save. */
  createdAt: string;
  /** Bytes of the model weights (`weights.bin`). */
  byteSize: number;
  /** Checksum of the model weights (`weights.bin`) as in `SnapshotFile`, verified on load. */
  checksum: string;
  /** Every file of the snapshot with its size and checksum (set by the stores of this package). */
  files?: SnapshotFile[];
  /** Whether the optimizer state was saved with the weights (`includeOptimizer`). */
  hasOptimizer?: boolean;
}

/** Options of `SnapshotStore.save`. */
export interface SaveOptions {
  /**
   * Also save the state of `model.optimizer` (iteration count and slot variables such as Adam's
   * moments), so that `loadWeightsInto(id, model, { includeOptimizer: true })` can resume
   * training exactly. Default `false`.
   */
  includeOptimizer?: boolean;
}

/** Options of `SnapshotStore.loadWeightsInto`. */
export interface LoadWeightsOptions {
  /**
   * Also restore the optimizer state into `model.optimizer` (the model must be compiled with an
   * optimizer of the saved class). Default `false`.
   */
  includeOptimizer?: boolean;
}

/** Saves, lists and loads model snapshots. Implemented by `FileSnapshotStore` and `MemorySnapshotStore`. */
export interface SnapshotStore {
  /**
   * Saves the model's weights and topology as they are when `save` is called, then applies the
   * store's retention policy. Resolves with the new entry (even if retention dropped it at once).
   */
  save(model: LayersModel, meta: SnapshotMeta, options?: SaveOptions): Promise<SnapshotEntry>;
  /** Snapshots in the order they were saved (oldest first). */
  list(): Promise<SnapshotEntry[]>;
  /** A new model built from the snapshot's topology and verified weights (uncompiled). */
  load(id: string): Promise<LayersModel>;
  /** Writes the snapshot's verified weights into `model`, which must have the same architecture. */
  loadWeightsInto(id: string, model: LayersModel, options?: LoadWeightsOptions): Promise<void>;
  delete(id: string): Promise<void>;
}
