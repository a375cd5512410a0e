import { readVerified } from './durable-file.js';
import { ID_PATTERN, seqOf } from './entry.js';
import { SnapshotCorruptError } from './errors.js';
import { LOCK_FILE } from './lock.js';
import { MANIFEST_FILE, type Manifest, readManifest, writeManifest } from './manifest.js';
import { errorCode, fsyncDir, type NodeModules } from './node.js';
import { readSidecar } from './sidecar.js';
import type { SnapshotEntry } from './store.js';

/** Prefix of a snapshot folder being written. */
export const TEMP_PREFIX = '.tmp-';
/** Prefix of a snapshot folder moved aside to be deleted. */
export const TRASH_PREFIX = '.trash-';

/** The sequence number in `snap-N`, `.tmp-snap-N-…` or `.trash-snap-N-…`, if the name has one. */
function seqIn(name: string): number | undefined {
  const match = /^(?:\.tmp-|\.trash-)?snap-(\d{6,})(?:-|$)/.exec(name);
  if (match === null) return undefined;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

async function namesIn(node: NodeModules, dir: string): Promise<string[]> {
  try {
    return await node.fs.readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/** Whether the folder holds `snap-*` folders (a store whose manifest is missing, if it has none). */
export async function hasSnapshotFolders(node: NodeModules, dir: string): Promise<boolean> {
  return (await namesIn(node, dir)).some((name) => ID_PATTERN.test(name));
}

/** The error for a `snap-*` folder that cannot be verified while the manifest is missing. */
function unverifiable(id: string, folder: string, why: string): SnapshotCorruptError {
  return new SnapshotCorruptError(
    id,
    folder,
    `${MANIFEST_FILE} is missing and this folder cannot be verified (${why}); move the ` +
      'folder out of the store (or restore the manifest) and open the store again',
  );
}

/**
 * The snapshots a folder's `snapshot.json` files describe, oldest first, without verifying the
 * files (what a read-only store lists when the manifest is missing; loads still verify). A
 * folder whose `snapshot.json` is missing or damaged is a `SnapshotCorruptError`, as for a
 * writable store: skipping it would hand out a store with a member silently missing.
 */
export async function scanSnapshots(node: NodeModules, dir: string): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  for (const name of await namesIn(node, dir)) {
    if (!ID_PATTERN.test(name)) continue;
    const folder = `${dir}/${name}`;
    const read = await readSidecar(node, folder, name);
    if ('problem' in read) throw unverifiable(name, folder, read.problem);
    out.push(read.entry);
  }
  return out.sort((a, b) => seqOf(a.id) - seqOf(b.id));
}

/**
 * The entries of every `snap-*` folder, each checked file by file against its `snapshot.json`.
 * Throws `SnapshotCorruptError` for a folder that cannot be verified: the manifest is gone and
 * such a folder is never deleted, so the user decides.
 */
async function rebuild(node: NodeModules, dir: string, names: string[]): Promise<SnapshotEntry[]> {
  const entries: SnapshotEntry[] = [];
  for (const id of names.filter((n) => ID_PATTERN.test(n))) {
    const folder = `${dir}/${id}`;
    const read = await readSidecar(node, folder, id);
    const refuse = (why: string) => unverifiable(id, folder, why);
    if ('problem' in read) throw refuse(read.problem);
    for (const file of read.entry.files ?? []) {
      try {
        await readVerified(node, id, (name) => `${folder}/${name}`, file);
      } catch (error) {
        if (error instanceof SnapshotCorruptError) throw refuse(error.reason);
        if (errorCode(error) === 'ENOENT') throw refuse(`${file.name} is missing`);
        throw error;
      }
    }
    entries.push(read.entry);
  }
  return entries.sort((a, b) => seqOf(a.id) - seqOf(b.id));
}

/**
 * Brings a store's folder to a consistent state. Must run under the writer lock (so no live
 * writer of the store is mid-save); safe to run any number of times:
 * - no manifest but `snap-*` folders (the manifest was deleted): the manifest is rebuilt from the
 *   folders' `snapshot.json` after every file is verified; a folder that does not verify stops
 *   it with `SnapshotCorruptError` and nothing is deleted;
 * - removes what an interrupted writer left: temporary folders and manifests, trash, lock
 *   temporaries, and `snap-*` folders the manifest does not list (saves that never committed,
 *   or dropped snapshots whose files were not yet removed). Files this package did not make are
 *   left alone;
 * - `nextSeq` moves past every sequence number seen on disk, so ids are never reused.
 * Returns the manifest as it now is on disk.
 */
export async function recoverStore(node: NodeModules, dir: string): Promise<Manifest> {
  let manifest = await readManifest(node, dir);
  const names = await namesIn(node, dir);
  const start = { ...manifest };
  if (manifest.generation === 0) {
    manifest = { ...manifest, snapshots: await rebuild(node, dir, names) };
  }
  const highest = Math.max(0, ...names.map((n) => seqIn(n) ?? 0));
  manifest.nextSeq = Math.max(manifest.nextSeq, highest + 1);
  const listed = new Set(manifest.snapshots.map((e) => e.id));
  let removed = false;
  for (const name of names) {
    const leftover =
      name.startsWith(TEMP_PREFIX) ||
      name.startsWith(TRASH_PREFIX) ||
      name.startsWith(`${MANIFEST_FILE}.tmp-`) ||
      (name.startsWith(`${LOCK_FILE}.`) && name !== LOCK_FILE) ||
      (ID_PATTERN.test(name) && !listed.has(name));
    if (leftover) {
      await node.fs.rm(`${dir}/${name}`, { recursive: true, force: true });
      removed = true;
    }
  }
  if (removed) await fsyncDir(node.fs, dir);
  if (start.generation === 0 || manifest.nextSeq !== start.nextSeq) {
    manifest = { ...manifest, generation: manifest.generation + 1 };
    await writeManifest(node, dir, manifest);
  }
  return manifest;
}
