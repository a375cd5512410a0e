import type { Locate, PendingFile } from './artifacts.js';
import { verifyFile } from './artifacts.js';
import { type ChecksumAlgorithm, checksumAlgorithm, createHasher } from './checksum.js';
import { SnapshotCorruptError } from './errors.js';
import type { NodeModules } from './node.js';
import type { SnapshotFile } from './store.js';

const STAGE_BYTES = 1 << 20;
const READ_CHUNK = 8 << 20;
/** Block sizes of `writeDurably` (tests shrink them). */
interface WriteBlocks {
  /** Large tensors are written in blocks of this size, so hashing and flushing overlap them. */
  writeBlock: number;
  /** Written bytes after which a flush to disk starts in the background while writing goes on. */
  flushEvery: number;
}

const DEFAULT_BLOCKS: WriteBlocks = { writeBlock: 8 << 20, flushEvery: 16 << 20 };

/**
 * Creates `path` (failing if it exists), writes the file's chunks, flushes them to disk (fdatasync:
 * the data and the size, which is what a reader needs) and closes it, and returns its size and
 * checksum. Each block is hashed on this thread while its write runs on libuv's pool, and the
 * disk flushes written blocks while later ones are written.
 */
export async function writeDurably(
  node: NodeModules,
  path: string,
  file: PendingFile,
  algorithm: ChecksumAlgorithm,
  blocks: WriteBlocks = DEFAULT_BLOCKS,
): Promise<SnapshotFile> {
  const { writeBlock, flushEvery } = blocks;
  const hash = createHasher(node, algorithm);
  const handle = await node.fs.open(path, 'wx');
  // One fdatasync at a time runs on libuv's pool while later blocks are written, so the disk
  // writes back the file as it is written instead of all at the end.
  let flushing: Promise<void> | undefined;
  // Linux reports a failed writeback to one fsync only, so a background failure is kept here.
  let flushFailure: { error: unknown } | undefined;
  let unflushed = 0;
  try {
    let position = 0;
    const writeAll = async (block: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < block.byteLength) {
        const { bytesWritten } = await handle.write(
          block,
          done,
          block.byteLength - done,
          position + done,
        );
        done += bytesWritten;
      }
    };
    const flush = async (block: Uint8Array): Promise<void> => {
      const pending = writeAll(block);
      hash.update(block);
      await pending;
      position += block.byteLength;
      unflushed += block.byteLength;
      if (unflushed >= flushEvery && flushing === undefined) {
        unflushed = 0;
        flushing = handle.datasync().then(
          () => {
            flushing = undefined;
          },
          (error: unknown) => {
            flushFailure ??= { error };
            flushing = undefined;
          },
        );
      }
    };
    // Small tensors (biases, batch-norm statistics) are staged into one block to save syscalls.
    let stage: Uint8Array[] = [];
    let staged = 0;
    const flushStage = async (): Promise<void> => {
      if (staged === 0) return;
      const block = new Uint8Array(staged);
      let offset = 0;
      for (const c of stage) {
        block.set(c, offset);
        offset += c.byteLength;
      }
      stage = [];
      staged = 0;
      await flush(block);
    };
    for (const chunk of file.chunks) {
      if (chunk.byteLength >= STAGE_BYTES / 4) {
        await flushStage();
        for (let offset = 0; offset < chunk.byteLength; offset += writeBlock) {
          await flush(chunk.subarray(offset, offset + writeBlock));
        }
      } else {
        stage.push(chunk);
        staged += chunk.byteLength;
        if (staged >= STAGE_BYTES) await flushStage();
      }
    }
    await flushStage();
    await flushing;
    if (flushFailure) throw flushFailure.error;
    await handle.datasync();
    return { name: file.name, byteSize: position, checksum: hash.digest() };
  } finally {
    await flushing;
    await handle.close();
  }
}

/**
 * Reads `path` whole and checks it against the size and checksum recorded at save time (reading
 * the next block while the current one is hashed). Throws `SnapshotCorruptError` on a mismatch;
 * lets `ENOENT` through for the caller to tell a deleted snapshot from a damaged one.
 */
export async function readVerified(
  node: NodeModules,
  id: string,
  locate: Locate,
  expected: SnapshotFile,
): Promise<Uint8Array> {
  const where = locate(expected.name);
  const algorithm = checksumAlgorithm(expected.checksum);
  if (algorithm === undefined) {
    throw new SnapshotCorruptError(
      id,
      where,
      `unknown checksum '${expected.checksum}' in the manifest; expected crc32:<hex> or sha256:<hex>`,
    );
  }
  const handle = await node.fs.open(where, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== expected.byteSize) verifyFile(id, where, expected, size, '');
    const bytes = new Uint8Array(size);
    const hash = createHasher(node, algorithm);
    const readBlock = async (offset: number): Promise<number> => {
      const length = Math.min(READ_CHUNK, size - offset);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, offset + done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    };
    let offset = 0;
    let next = size > 0 ? readBlock(0) : Promise.resolve(0);
    while (offset < size) {
      const got = await next;
      if (got === 0) break;
      const start = offset;
      offset += got;
      next = offset < size ? readBlock(offset) : Promise.resolve(0);
      hash.update(bytes.subarray(start, offset));
    }
    await next;
    verifyFile(id, where, expected, offset, hash.digest());
    return bytes;
  } finally {
    await handle.close();
  }
}
