import { createHasher } from './checksum.js';
import { entryProblem, MAX_SEQ, seqOf } from './entry.js';
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
const EMPTY_MANIFEST: Manifest = { generation: 0, nextSeq: 1, snapshots: [] };

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

/** Why a parsed manifest body is malformed, or `undefined` when every field is well-formed. */
function manifestProblem(parsed: Record<string, unknown>): string | undefined {
  const { generation, nextSeq, snapshots } = parsed;
  if (!Number.isSafeInteger(generation) || (generation as number) < 1) {
    return `generation ${JSON.stringify(generation)} is not an integer ≥ 1`;
  }
  if (!Number.isSafeInteger(nextSeq) || (nextSeq as number) < 1 || (nextSeq as number) > MAX_SEQ) {
    return `nextSeq ${JSON.stringify(nextSeq)} is not an integer in [1, ${MAX_SEQ}]`;
  }
  if (!Array.isArray(snapshots)) return 'snapshots is not a list';
  const seen = new Set<string>();
  for (const entry of snapshots) {
    const problem = entryProblem(entry);
    if (problem !== undefined) return problem;
    const id = (entry as SnapshotEntry).id;
    if (seen.has(id)) return `${id} is listed twice`;
    seen.add(id);
    if (seqOf(id) >= (nextSeq as number)) return `${id} is not below nextSeq ${nextSeq}`;
  }
  return undefined;
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SnapshotCorruptError(undefined, path, 'not a JSON object');
  }
  if (parsed.format !== FORMAT || parsed.version !== VERSION) {
    throw new SnapshotCorruptError(
      undefined,
      path,
      `format ${JSON.stringify(parsed.format)} version ${JSON.stringify(parsed.version)}, ` +
        `expected '${FORMAT}' version ${VERSION}`,
    );
  }
  const problem = manifestProblem(parsed);
  if (problem !== undefined) {
    throw new SnapshotCorruptError(
      undefined,
      path,
      `${problem} (delete ${MANIFEST_FILE} to rebuild it from the snapshot folders)`,
    );
  }
  const manifest: Manifest = {
    generation: parsed.generation as number,
    nextSeq: parsed.nextSeq as number,
    snapshots: parsed.snapshots as SnapshotEntry[],
  };
  if (parsed.checksum !== bodyChecksum(node, manifest)) {
    throw new SnapshotCorruptError(
      undefined,
      path,
      `checksum mismatch: recorded ${String(parsed.checksum)}, content hashes to ` +
        `${bodyChecksum(node, manifest)} (delete ${MANIFEST_FILE} to rebuild it from the snapshot folders)`,
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
