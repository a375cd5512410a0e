import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { DataFileError } from '../errors.js';

/** Options of `readDataFile`. */
export interface ReadDataFileOptions {
  /** Most bytes the file may hold; a larger one is refused before it is read. */
  maxBytes: number;
  /** What the file is, for messages (default "data file"). */
  what?: string;
}

/** What a path that is not a regular file is, in words. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

const CHUNK = 1 << 20;

/**
 * Reads a whole data file, safely for paths a user (or a data folder) names:
 * - it is opened non-blocking, so a FIFO never blocks the open, and checked with `fstat` on the
 *   open descriptor (symbolic links followed, no race with a swap of the path): anything but a
 *   regular file (a folder, a FIFO, `/dev/zero`, a socket) is refused before a byte is read;
 * - a file larger than `maxBytes` is refused, and the read stops at `maxBytes + 1` bytes even if
 *   the file grows meanwhile;
 * - every read is asynchronous and bounded, so the process keeps answering signals.
 * Errors are `DataFileError`s naming the file and what was expected. Every data format reads its
 * files through this one function.
 */
export async function readDataFile(
  path: string,
  options: ReadDataFileOptions,
): Promise<Uint8Array> {
  const what = options.what ?? 'data file';
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DataFileError(
      path,
      `Cannot open ${what} ${path} (${code}); expected a readable file.`,
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new DataFileError(path, `${what} ${path} is ${kindOf(info)}; expected a regular file.`);
    }
    if (info.size > options.maxBytes) {
      throw new DataFileError(
        path,
        `${what} ${path} holds ${info.size} bytes; expected at most ${options.maxBytes}.`,
      );
    }
    const out = new Uint8Array(info.size);
    let filled = 0;
    for (;;) {
      if (filled === out.length) {
        // The file may have grown since fstat: one more byte tells.
        const probe = new Uint8Array(1);
        const { bytesRead } = await handle.read(probe, 0, 1, filled);
        if (bytesRead === 0) return out;
        throw new DataFileError(
          path,
          `${what} ${path} grew while it was read (past ${filled} bytes); expected a file that does not change.`,
        );
      }
      const { bytesRead } = await handle.read(
        out,
        filled,
        Math.min(CHUNK, out.length - filled),
        filled,
      );
      if (bytesRead === 0) {
        throw new DataFileError(
          path,
          `${what} ${path} shrank while it was read (${filled} of ${out.length} bytes); expected a file that does not change.`,
        );
      }
      filled += bytesRead;
    }
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DataFileError(
      path,
      `Cannot read ${what} ${path} (${code}); expected a readable file.`,
    );
  } finally {
    await handle.close();
  }
}
