import { createHasher } from './checksum.js';
import { entryProblem } from './entry.js';
import { errorCode, type NodeModules } from './node.js';
import type { SnapshotEntry } from './store.js';

/**
 * Name of the file inside each snapshot folder that repeats the snapshot's manifest entry, so
 * that a store whose `manifest.json` is lost can be rebuilt from its folders.
 */
const SIDECAR_FILE = 'snapshot.json';
const FORMAT = 'onerun-snapshot';
const VERSION = 1;

function entryChecksum(node: NodeModules, entry: SnapshotEntry): string {
  const hasher = createHasher(node, 'sha256');
  hasher.update(new TextEncoder().encode(JSON.stringify(entry)));
  return hasher.digest();
}

/** Writes `snapshot.json` into a (temporary) snapshot folder and flushes it to disk. */
export async function writeSidecar(
  node: NodeModules,
  folder: string,
  entry: SnapshotEntry,
): Promise<void> {
  const text = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    entry,
    checksum: entryChecksum(node, entry),
  });
  const handle = await node.fs.open(`${folder}/${SIDECAR_FILE}`, 'wx');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * The entry recorded in a snapshot folder, or why there is none usable (missing, not JSON,
 * malformed, checksum mismatch, or recorded under another id than the folder's name).
 */
export async function readSidecar(
  node: NodeModules,
  folder: string,
  id: string,
): Promise<{ entry: SnapshotEntry } | { problem: string }> {
  let text: string;
  try {
    text = await node.fs.readFile(`${folder}/${SIDECAR_FILE}`, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { problem: `no ${SIDECAR_FILE}` };
    throw error;
  }
  let parsed: { format?: unknown; version?: unknown; entry?: unknown; checksum?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: `${SIDECAR_FILE} is not valid JSON` };
  }
  if (parsed?.format !== FORMAT || parsed.version !== VERSION) {
    return { problem: `${SIDECAR_FILE} is not an ${FORMAT} version ${VERSION} file` };
  }
  const problem = entryProblem(parsed.entry);
  if (problem !== undefined) return { problem: `${SIDECAR_FILE}: ${problem}` };
  const entry = parsed.entry as SnapshotEntry;
  if (entry.id !== id) return { problem: `${SIDECAR_FILE} describes ${entry.id}` };
  if (!Array.isArray(entry.files)) return { problem: `${SIDECAR_FILE} lists no files` };
  if (parsed.checksum !== entryChecksum(node, entry)) {
    return { problem: `${SIDECAR_FILE} checksum mismatch` };
  }
  return { entry };
}
