import { statfs } from 'node:fs/promises';
import { DiskSpaceError } from './errors.js';

/** Throws `DiskSpaceError` unless the file system holding `folder` has `bytes` free. */
export async function ensureFreeSpace(
  folder: string,
  bytes: number,
  purpose: string,
): Promise<void> {
  const stats = await statfs(folder);
  const free = stats.bavail * stats.bsize;
  if (free < bytes) throw new DiskSpaceError(folder, bytes, free, purpose);
}
