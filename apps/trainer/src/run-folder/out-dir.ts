import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

function codeOf(error: unknown): string {
  return String((error as NodeJS.ErrnoException).code ?? (error as Error).message);
}

/**
 * Creates the folder `path` (and missing parents) one level at a time, so that a path the file
 * system cannot hold (`/proc/x`, a path through a file) fails at once with a `UsageError` naming
 * it: Node's recursive `mkdir` spins forever on some of them. Returns the folder and the
 * folders it created (outermost first).
 */
export async function ensureDir(
  path: string,
  flag = '--out',
): Promise<{ dir: string; created: string[] }> {
  const target = resolve(path);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    try {
      const info = await stat(at);
      if (!info.isDirectory()) {
        throw new UsageError(`${flag} ${path}: ${at} is not a folder; choose another ${flag}.`);
      }
      break;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      if (codeOf(error) !== 'ENOENT') {
        throw new UsageError(`${flag} ${path}: cannot use ${at} (${codeOf(error)}).`);
      }
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  const created: string[] = [];
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
      created.push(dir);
    } catch (error) {
      if (codeOf(error) === 'EEXIST') continue;
      throw new UsageError(
        `${flag} ${path}: cannot create ${dir} (${codeOf(error)}); choose a folder you can write to.`,
      );
    }
  }
  return { dir: target, created };
}
