import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { encodeSnapshot, type Locate, verifyFile } from './artifacts.js';
import { sha256 } from './checksum.js';
import { copyEntry, formatId, makeEntry } from './entry.js';
import { SnapshotCorruptError, SnapshotNotFoundError } from './errors.js';
import { normalizeMeta } from './meta.js';
import {
  loadVerifiedModel,
  type ReadVerified,
  restoreVerified,
  verifiedArtifacts,
} from './restore.js';
import {
  applyRetention,
  type RetentionPolicy,
  requireRankable,
  validateRetention,
} from './retention.js';
import type {
  LoadWeightsOptions,
  SaveOptions,
  SnapshotEntry,
  SnapshotFile,
  SnapshotMeta,
  SnapshotStore,
} from './store.js';

/** Options of `MemorySnapshotStore`. */
export interface MemorySnapshotStoreOptions {
  /** Which snapshots to keep after each save. Default `'all'`. */
  retain?: RetentionPolicy;
}

interface StoredSnapshot {
  entry: SnapshotEntry;
  files: Map<string, Uint8Array>;
}

function concat(chunks: readonly Uint8Array[], byteSize: number): Uint8Array {
  const out = new Uint8Array(byteSize);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * A snapshot store in memory: the same files, checksums, retention and errors as
 * `FileSnapshotStore`, without a file system, so it works in browsers. Each snapshot holds a
 * private copy of its bytes (`model.json` + `weights.bin`, the optimizer files if saved).
 */
export class MemorySnapshotStore implements SnapshotStore {
  /** The retention policy applied after each save. */
  readonly retain: RetentionPolicy;
  private readonly snapshots: StoredSnapshot[] = [];
  private nextSeq = 1;

  constructor(options: MemorySnapshotStoreOptions = {}) {
    this.retain = validateRetention(options.retain);
  }

  async save(
    model: LayersModel,
    meta: SnapshotMeta,
    options: SaveOptions = {},
  ): Promise<SnapshotEntry> {
    const checked = normalizeMeta(meta);
    requireRankable(this.retain, checked);
    const encoded = await encodeSnapshot(model, options.includeOptimizer === true);
    const files = new Map<string, Uint8Array>();
    const infos: SnapshotFile[] = [];
    for (const file of encoded.files) {
      const bytes = concat(file.chunks, file.byteSize);
      files.set(file.name, bytes);
      infos.push({ name: file.name, byteSize: bytes.byteLength, checksum: await sha256(bytes) });
    }
    // The id is taken only now, after every await, so concurrent saves get ids in commit order.
    const entry = makeEntry(formatId(this.nextSeq++), checked, infos, encoded.hasOptimizer);
    this.snapshots.push({ entry, files });
    const { keep } = applyRetention(
      this.snapshots.map((s) => s.entry),
      this.retain,
    );
    const kept = new Set(keep);
    const survivors = this.snapshots.filter((s) => kept.has(s.entry));
    this.snapshots.splice(0, this.snapshots.length, ...survivors);
    return copyEntry(entry);
  }

  async list(): Promise<SnapshotEntry[]> {
    return this.snapshots.map((s) => copyEntry(s.entry));
  }

  async load(id: string): Promise<LayersModel> {
    const stored = this.find(id);
    return loadVerifiedModel(stored.entry, locate, this.reader(stored));
  }

  /** The verified `tf.io.ModelArtifacts` of a snapshot (for `tf.io.fromMemory`). */
  async loadArtifacts(id: string): Promise<tf.io.ModelArtifacts> {
    const stored = this.find(id);
    return verifiedArtifacts(stored.entry, locate, this.reader(stored));
  }

  async loadWeightsInto(
    id: string,
    model: LayersModel,
    options: LoadWeightsOptions = {},
  ): Promise<void> {
    const stored = this.find(id);
    await restoreVerified(
      stored.entry,
      locate,
      this.reader(stored),
      model,
      options.includeOptimizer === true,
    );
  }

  async delete(id: string): Promise<void> {
    const index = this.snapshots.findIndex((s) => s.entry.id === id);
    if (index < 0)
      throw new SnapshotNotFoundError(
        id,
        this.snapshots.map((s) => s.entry.id),
      );
    this.snapshots.splice(index, 1);
  }

  private find(id: string): StoredSnapshot {
    const stored = this.snapshots.find((s) => s.entry.id === id);
    if (stored === undefined) {
      throw new SnapshotNotFoundError(
        id,
        this.snapshots.map((s) => s.entry.id),
      );
    }
    return stored;
  }

  private reader(stored: StoredSnapshot): ReadVerified {
    return async (names) => {
      const out = new Map<string, Uint8Array>();
      for (const name of names) {
        const expected = stored.entry.files?.find((f) => f.name === name);
        const bytes = stored.files.get(name);
        if (expected === undefined || bytes === undefined) {
          throw new SnapshotCorruptError(stored.entry.id, name, 'missing');
        }
        verifyFile(stored.entry.id, name, expected, bytes.byteLength, await sha256(bytes));
        out.set(name, bytes);
      }
      return out;
    };
  }
}

const locate: Locate = (name) => name;
