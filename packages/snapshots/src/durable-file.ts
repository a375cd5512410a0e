import type { Locate, PendingFile } from './artifacts.js';
import { verifyFile } from './artifacts.js';
import { CHECKSUM_PREFIX } from './checksum.js';
import type { NodeModules } from './node.js';
import type { SnapshotFile } from './store.js';

const STAGE_BYTES = 1 << 20;
const READ_CHUNK = 8 << 20;

/**
 * Creates `path` (failing if it exists), writes the file's chunks, flushes them to disk (fdatasync:
 * the data and the size, which is what a reader needs) and closes it, and
 * returns its size and SHA-256. The hash of each block is computed on this thread while the
 * block's write runs on libuv's pool, so hashing costs little extra time.
 */
export async function writeDurably(
  node: NodeModules,
  path: string,
  file: PendingFile,
): Promise<SnapshotFile> {
  const hash = node.crypto.createHash('sha256');
  const handle = await node.fs.open(path, 'wx');
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
        await flush(chunk);
      } else {
        stage.push(chunk);
        staged += chunk.byteLength;
        if (staged >= STAGE_BYTES) await flushStage();
      }
    }
    await flushStage();
    await handle.datasync();
    return { name: file.name, byteSize: position, checksum: CHECKSUM_PREFIX + hash.digest('hex') };
  } finally {
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
  const handle = await node.fs.open(where, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== expected.byteSize) verifyFile(id, where, expected, size, '');
    const bytes = new Uint8Array(size);
    const hash = node.crypto.createHash('sha256');
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
    verifyFile(id, where, expected, offset, CHECKSUM_PREFIX + hash.digest('hex'));
    return bytes;
  } finally {
    await handle.close();
  }
}
