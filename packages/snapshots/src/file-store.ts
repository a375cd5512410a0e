import { InvalidArgumentError } from '@onerun/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { encodeSnapshot, type Locate } from './artifacts.js';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  createHasher,
  defaultChecksum,
} from './checksum.js';
import { readVerified, writeDurably } from './durable-file.js';
import { copyEntry, formatId, MAX_SEQ, makeEntry } from './entry.js';
import {
  SnapshotCorruptError,
  SnapshotError,
  SnapshotNotFoundError,
  SnapshotReadOnlyError,
  SnapshotWriteError,
} from './errors.js';
import { withWriterLock } from './lock.js';
import { MANIFEST_FILE, type Manifest, readManifest, writeManifest } from './manifest.js';
import { normalizeMeta } from './meta.js';
import { errorCode, fsyncDir, type NodeModules, nodeModules } from './node.js';
import {
  hasSnapshotFolders,
  recoverStore,
  scanSnapshots,
  TEMP_PREFIX,
  TRASH_PREFIX,
} from './recovery.js';
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
import { writeSidecar } from './sidecar.js';
import type {
  LoadWeightsOptions,
  SaveOptions,
  SnapshotEntry,
  SnapshotFile,
  SnapshotMeta,
  SnapshotStore,
} from './store.js';

/** Options of `FileSnapshotStore`. */
export interface FileSnapshotStoreOptions {
  /** Which snapshots to keep after each save. Default `'all'`. */
  retain?: RetentionPolicy;
  /**
   * Open for reading only: nothing is created, locked, cleaned or written, and `save`/`delete`
   * throw `SnapshotReadOnlyError`. Use it for an evaluator that watches a trainer's store.
   * Default `false`.
   */
  readOnly?: boolean;
  /** How long a writer waits for another live writer's lock before it throws. Default 60 000 ms. */
  lockTimeoutMs?: number;
  /**
   * Checksum recorded for each new file: `'crc32'` (default where Node has `zlib.crc32`, i.e.
   * Node ≥ 20.15; ~3× faster) or `'sha256'` (the default on older Node). Loads verify whichever
   * algorithm each file was recorded with.
   */
  checksum?: ChecksumAlgorithm;
}

interface Opened {
  node: NodeModules;
  dir: string;
  checksum: ChecksumAlgorithm;
}

/**
 * A snapshot store in a folder (Node). Layout:
 *
 * ```
 * <dir>/manifest.json          index: every listed snapshot's meta, sizes and checksums
 * <dir>/snap-000001/model.json  standard tfjs artifacts (modelTopology + weightsManifest)
 * <dir>/snap-000001/weights.bin
 * <dir>/snap-000001/snapshot.json   the snapshot's entry again, to rebuild a lost manifest
 * <dir>/snap-000001/optimizer.json, optimizer.bin   only with includeOptimizer
 * ```
 *
 * Guarantees:
 * - A snapshot folder is written under a temporary name, every file fsynced, then renamed into
 *   place and the folder fsynced; only then is it added to the manifest, which is replaced
 *   atomically (temporary file, fsync, rename, fsync). A crash at any point leaves the previous
 *   manifest, which lists only complete snapshots.
 * - Dropped or deleted snapshots leave the manifest first and lose their files after.
 * - A writable store, when it opens and before every save and delete, removes what a crashed
 *   writer left (temporary folders and files, folders the manifest does not list, a lock whose
 *   process is gone), so one writer's crash never stops another writer of the same store.
 * - A store whose `manifest.json` is missing rebuilds it from the folders' `snapshot.json`
 *   after verifying every file; a folder it cannot verify is never deleted
 *   (`SnapshotCorruptError` instead).
 * - Writers take a lock file (`.lock`) around each save and delete, so several writers (stores
 *   in this or other processes on the same host) serialize; ids are never reused.
 * - Readers never lock: every `list` and `load` re-reads the manifest, every loaded file is
 *   checked against its recorded size and checksum. A reader sees a snapshot whole or not at all;
 *   a snapshot deleted while it is being loaded gives `SnapshotNotFoundError`, damage gives
 *   `SnapshotCorruptError` naming the snapshot and the file.
 *
 * Construction is synchronous. A writable store creates and cleans its folder before its first
 * write; await `FileSnapshotStore.open(dir, options)` (or `store.ready()`) to do that up front and
 * see errors early. Reads never wait for it.
 * POSIX file systems (Linux, macOS) give these guarantees; network file systems and Windows may not.
 */
export class FileSnapshotStore implements SnapshotStore {
  /** The store's folder as given. */
  readonly dir: string;
  /** The retention policy applied after each save. */
  readonly retain: RetentionPolicy;
  readonly readOnly: boolean;
  private readonly lockTimeoutMs: number;
  private readonly checksum: ChecksumAlgorithm | undefined;
  private opening: Promise<Opened> | undefined;
  private locating: Promise<Opened> | undefined;

  constructor(dir: string, options: FileSnapshotStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new InvalidArgumentError('dir', dir, 'a folder path');
    }
    this.dir = dir;
    this.retain = validateRetention(options.retain);
    this.readOnly = options.readOnly === true;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
    if (
      options.checksum !== undefined &&
      !(CHECKSUM_ALGORITHMS as readonly unknown[]).includes(options.checksum)
    ) {
      throw new InvalidArgumentError('options.checksum', options.checksum, "'crc32' or 'sha256'");
    }
    this.checksum = options.checksum;
  }

  /** Creates the store and waits until its folder is ready (created and cleaned for writers). */
  static async open(
    dir: string,
    options: FileSnapshotStoreOptions = {},
  ): Promise<FileSnapshotStore> {
    const store = new FileSnapshotStore(dir, options);
    await store.ready();
    return store;
  }

  /**
   * Resolves once the folder is ready (for a writable store: created, leftovers of a crashed
   * writer removed); rejects with the reason it cannot be. Reads do not wait for this.
   */
  async ready(): Promise<void> {
    await this.opened();
  }

  /** Node built-ins and the absolute folder: all that reading needs. */
  private located(): Promise<Opened> {
    this.locating ??= nodeModules().then((node) => ({
      node,
      dir: node.path.resolve(this.dir),
      checksum: this.checksum ?? defaultChecksum(node),
    }));
    return this.locating;
  }

  /** For writers: the folder exists and has been cleaned once under the writer lock. */
  private opened(): Promise<Opened> {
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<Opened> {
    const located = await this.located();
    const { node, dir } = located;
    if (this.readOnly) return located;
    // Fails now, not at the first save, when this Node cannot compute the chosen checksum.
    createHasher(node, located.checksum);
    try {
      await node.fs.mkdir(dir, { recursive: true });
    } catch (error) {
      const code = errorCode(error);
      throw new SnapshotWriteError(
        'create the snapshot store folder',
        dir,
        code === 'EEXIST' || code === 'ENOTDIR'
          ? new Error(`${code}: it is a file, not a folder`)
          : error,
      );
    }
    await withWriterLock(node, dir, this.lockTimeoutMs, () => recoverStore(node, dir));
    return located;
  }

  async save(
    model: LayersModel,
    meta: SnapshotMeta,
    options: SaveOptions = {},
  ): Promise<SnapshotEntry> {
    if (this.readOnly) throw new SnapshotReadOnlyError(this.dir, 'save a snapshot');
    const checked = normalizeMeta(meta);
    requireRankable(this.retain, checked);
    // Started before any await: the weights are captured as they are at this call.
    const encoding = encodeSnapshot(model, options.includeOptimizer === true);
    let opened: Opened;
    try {
      opened = await this.opened();
    } catch (error) {
      encoding.catch(() => {});
      throw error;
    }
    const { node, dir, checksum } = opened;
    const encoded = await encoding;
    return withWriterLock(node, dir, this.lockTimeoutMs, async () => {
      // Another writer of this store may have crashed since we opened it.
      const manifest = await recoverStore(node, dir);
      if (manifest.nextSeq > MAX_SEQ) {
        throw new SnapshotCorruptError(
          undefined,
          `${dir}/${MANIFEST_FILE}`,
          `nextSeq ${manifest.nextSeq} is past the last id this store can hand out`,
        );
      }
      const id = formatId(manifest.nextSeq);
      const temp = `${dir}/${TEMP_PREFIX}${id}-${node.crypto.randomUUID()}`;
      const final = `${dir}/${id}`;
      const files: SnapshotFile[] = [];
      let stage: 'temp' | 'placed' | 'listed' = 'temp';
      try {
        await node.fs.mkdir(temp);
        for (const file of encoded.files) {
          files.push(await writeDurably(node, `${temp}/${file.name}`, file, checksum));
        }
        const entry = makeEntry(id, checked, files, encoded.hasOptimizer);
        await writeSidecar(node, temp, entry);
        await fsyncDir(node.fs, temp);
        await node.fs.rename(temp, final);
        stage = 'placed';
        await fsyncDir(node.fs, dir);
        const { keep, drop } = applyRetention([...manifest.snapshots, entry], this.retain);
        await writeManifest(node, dir, {
          generation: manifest.generation + 1,
          nextSeq: manifest.nextSeq + 1,
          snapshots: keep,
        });
        stage = 'listed';
        for (const dropped of drop) await removeFolder(node, dir, dropped.id);
        return copyEntry(entry);
      } catch (error) {
        // Unlisted files are never visible; they go now if possible, else at the next open.
        if (stage !== 'listed') {
          const path = stage === 'placed' ? final : temp;
          await node.fs.rm(path, { recursive: true, force: true }).catch(() => {});
        }
        // A system error (a full disk, no permission) names the snapshot being written.
        if (errorCode(error) !== undefined && !(error instanceof SnapshotError)) {
          throw new SnapshotWriteError(`save snapshot '${id}' into`, dir, error);
        }
        throw error;
      }
    });
  }

  async list(): Promise<SnapshotEntry[]> {
    const manifest = await this.current();
    return manifest.snapshots.map(copyEntry);
  }

  /**
   * The manifest as it is now. When the file is missing but snapshot folders exist, a writable
   * store rebuilds it (under the lock); a read-only one lists what the folders describe.
   */
  private async current(): Promise<Manifest> {
    const { node, dir } = await this.located();
    const manifest = await readManifest(node, dir);
    if (manifest.generation !== 0 || !(await hasSnapshotFolders(node, dir))) return manifest;
    if (this.readOnly) return { ...manifest, snapshots: await scanSnapshots(node, dir) };
    await this.opened();
    return withWriterLock(node, dir, this.lockTimeoutMs, () => recoverStore(node, dir));
  }

  async load(id: string): Promise<LayersModel> {
    const { entry, locate, read } = await this.snapshot(id);
    return loadVerifiedModel(entry, locate, read);
  }

  /** The verified `tf.io.ModelArtifacts` of a snapshot (for `tf.io.fromMemory`). */
  async loadArtifacts(id: string): Promise<tf.io.ModelArtifacts> {
    const { entry, locate, read } = await this.snapshot(id);
    return verifiedArtifacts(entry, locate, read);
  }

  async loadWeightsInto(
    id: string,
    model: LayersModel,
    options: LoadWeightsOptions = {},
  ): Promise<void> {
    const { entry, locate, read } = await this.snapshot(id);
    await restoreVerified(entry, locate, read, model, options.includeOptimizer === true);
  }

  async delete(id: string): Promise<void> {
    if (this.readOnly) throw new SnapshotReadOnlyError(this.dir, `delete snapshot '${id}'`);
    const { node, dir } = await this.opened();
    await withWriterLock(node, dir, this.lockTimeoutMs, async () => {
      const manifest = await recoverStore(node, dir);
      if (!manifest.snapshots.some((e) => e.id === id)) {
        throw new SnapshotNotFoundError(
          id,
          manifest.snapshots.map((e) => e.id),
        );
      }
      await writeManifest(node, dir, {
        generation: manifest.generation + 1,
        nextSeq: manifest.nextSeq,
        snapshots: manifest.snapshots.filter((e) => e.id !== id),
      });
      await removeFolder(node, dir, id);
    });
  }

  /** The folder of a listed snapshot (for `fileSnapshotIO` or `tf.loadLayersModel('file://…')`). */
  async path(id: string): Promise<string> {
    const { entry } = await this.snapshot(id);
    const { dir } = await this.located();
    return `${dir}/${entry.id}`;
  }

  private async snapshot(
    id: string,
  ): Promise<{ entry: SnapshotEntry; locate: Locate; read: ReadVerified }> {
    const { node, dir } = await this.located();
    const manifest = await this.current();
    const entry = manifest.snapshots.find((e) => e.id === id);
    if (entry === undefined) {
      throw new SnapshotNotFoundError(
        id,
        manifest.snapshots.map((e) => e.id),
      );
    }
    const folder = `${dir}/${id}`;
    const locate: Locate = (name) => `${folder}/${name}`;
    const read: ReadVerified = async (names) => {
      const out = new Map<string, Uint8Array>();
      for (const name of names) {
        const expected = entry.files?.find((f) => f.name === name);
        if (expected === undefined) {
          throw new SnapshotCorruptError(id, `${MANIFEST_FILE}`, `no record of ${name}`);
        }
        try {
          out.set(name, await readVerified(node, id, locate, expected));
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error;
          throw await explainMissing(node, dir, id, locate(name));
        }
      }
      return out;
    };
    // Every read allocates fresh buffers that nothing else holds.
    read.owned = true;
    return { entry, locate, read };
  }
}

/** A listed file that cannot be opened: deleted meanwhile (not found) or damage (corrupt). */
async function explainMissing(
  node: NodeModules,
  dir: string,
  id: string,
  file: string,
): Promise<Error> {
  const now = await readManifest(node, dir);
  if (!now.snapshots.some((e) => e.id === id)) {
    return new SnapshotNotFoundError(
      id,
      now.snapshots.map((e) => e.id),
    );
  }
  const folder = `${dir}/${id}`;
  const folderExists = await node.fs.stat(folder).then(
    () => true,
    () => false,
  );
  return folderExists
    ? new SnapshotCorruptError(id, file, 'missing')
    : new SnapshotCorruptError(
        id,
        folder,
        `the folder is missing although ${MANIFEST_FILE} lists the snapshot`,
      );
}

/** Removes a snapshot folder that is no longer listed: renamed aside first, then deleted. */
async function removeFolder(node: NodeModules, dir: string, id: string): Promise<void> {
  const aside = `${dir}/${TRASH_PREFIX}${id}-${node.crypto.randomUUID()}`;
  try {
    await node.fs.rename(`${dir}/${id}`, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  await node.fs.rm(aside, { recursive: true, force: true });
}
