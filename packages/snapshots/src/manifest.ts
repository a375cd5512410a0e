import { createHasher } from './checksum.js';
import { ID_PATTERN } from './entry.js';
import { SnapshotCorruptError } from './errors.js';
import { errorCode, fsyncDir, type NodeModules } from './node.js';
import type { SnapshotEntry } from './store.js';

/** Name of the index at the root of a file store. */
export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'onerun-snapshots';
const VERSION = 1;

/** The content of `manifest.json`. */
export interface Manifest {
  /** Incremented by every committed change. */
  generation: number;
  /** Sequence number of the next snapshot id; never decreases, so ids are never reused. */
  nextSeq: number;
  /** Listed snapshots, oldest first. */
  snapshots: SnapshotEntry[];
}

/** The manifest of a store that has none yet. */
export const EMPTY_MANIFEST: Manifest = { generation: 0, nextSeq: 1, snapshots: [] };

function bodyChecksum(node: NodeModules, manifest: Manifest): string {
  const body = JSON.stringify({
    generation: manifest.generation,
    nextSeq: manifest.nextSeq,
    snapshots: manifest.snapshots,
  });
  const hasher = createHasher(node, 'sha256');
  hasher.update(new TextEncoder().encode(body));
  return hasher.digest();
}

/**
 * Reads and checks `manifest.json`; a store without one is empty. Throws `SnapshotCorruptError`
 * naming the file when it is not a complete manifest written by this package.
 */
export async function readManifest(node: NodeModules, dir: string): Promise<Manifest> {
  const path = `${dir}/${MANIFEST_FILE}`;
  let text: string;
  try {
    text = await node.fs.readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return structuredClone(EMPTY_MANIFEST);
    throw error;
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new SnapshotCorruptError(undefined, path, `not valid JSON (${(cause as Error).message})`);
  }
  if (parsed?.format !== FORMAT || parsed.version !== VERSION) {
    throw new SnapshotCorruptError(
      undefined,
      path,
      `format ${JSON.stringify(parsed?.format)} version ${JSON.stringify(parsed?.version)}, ` +
        `expected '${FORMAT}' version ${VERSION}`,
    );
  }
  const manifest: Manifest = {
    generation: parsed.generation as number,
    nextSeq: parsed.nextSeq as number,
    snapshots: parsed.snapshots as SnapshotEntry[],
  };
  if (
    !Number.isInteger(manifest.generation) ||
    !Number.isInteger(manifest.nextSeq) ||
    !Array.isArray(manifest.snapshots) ||
    !manifest.snapshots.every((e) => typeof e?.id === 'string' && ID_PATTERN.test(e.id))
  ) {
    throw new SnapshotCorruptError(undefined, path, 'malformed generation, nextSeq or snapshots');
  }
  if (parsed.checksum !== bodyChecksum(node, manifest)) {
    throw new SnapshotCorruptError(
      undefined,
      path,
      `checksum mismatch: recorded ${String(parsed.checksum)}, content hashes to ` +
        bodyChecksum(node, manifest),
    );
  }
  return manifest;
}

/**
 * Replaces `manifest.json` atomically: a temporary file is written and fsynced, renamed over the
 * manifest, and the folder fsynced. Readers see the old manifest or the new one, never a mix.
 */
export async function writeManifest(
  node: NodeModules,
  dir: string,
  manifest: Manifest,
): Promise<void> {
  const path = `${dir}/${MANIFEST_FILE}`;
  const temp = `${path}.tmp-${node.crypto.randomUUID()}`;
  const text = JSON.stringify(
    {
      format: FORMAT,
      version: VERSION,
      generation: manifest.generation,
      nextSeq: manifest.nextSeq,
      snapshots: manifest.snapshots,
      checksum: bodyChecksum(node, manifest),
    },
    null,
    2,
  );
  const handle = await node.fs.open(temp, 'wx');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
  try {
    await node.fs.rename(temp, path);
  } catch (error) {
    await node.fs.rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(node.fs, dir);
}
