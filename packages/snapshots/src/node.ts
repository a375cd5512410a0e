// Node built-ins are imported lazily, only when a file store or the file IO handler is used, and
// through a specifier held in a variable: bundlers for the browser (webpack, Vite, esbuild,
// Rollup) then leave the import alone instead of failing to resolve it, and a browser bundle that
// uses only MemorySnapshotStore never touches them.
type Fs = typeof import('node:fs/promises');
type Crypto = typeof import('node:crypto');
type Os = typeof import('node:os');
type Path = typeof import('node:path');
type Zlib = typeof import('node:zlib');

/** The Node built-ins the file store uses. */
export interface NodeModules {
  fs: Fs;
  crypto: Crypto;
  os: Os;
  path: Path;
  zlib: Zlib;
}

let cached: Promise<NodeModules> | undefined;

/** Loads (once) the Node built-ins; rejects outside Node. */
export function nodeModules(): Promise<NodeModules> {
  cached ??= Promise.all(
    ['node:fs/promises', 'node:crypto', 'node:os', 'node:path', 'node:zlib'].map(
      (specifier) => import(/* webpackIgnore: true */ /* @vite-ignore */ specifier),
    ),
  ).then(([fs, crypto, os, path, zlib]) => ({
    fs: fs as Fs,
    crypto: crypto as Crypto,
    os: os as Os,
    path: path as Path,
    zlib: zlib as Zlib,
  }));
  return cached;
}

/** The `code` of a Node system error (`'ENOENT'`, `'EEXIST'`, …), if it is one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Flushes a directory's entries (new names from create, rename, unlink) to disk. Platforms that
 * cannot open a directory for fsync (Windows) skip it.
 */
export async function fsyncDir(fs: Fs, dir: string): Promise<void> {
  let handle: Awaited<ReturnType<Fs['open']>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
