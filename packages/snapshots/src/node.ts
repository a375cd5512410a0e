// Node built-ins are imported lazily, only when a file store or file IO handler is used, so that
// bundling this package for a browser (where only MemorySnapshotStore is used) never has to
// resolve them. The magic comments keep webpack and Vite from trying.
type Fs = typeof import('node:fs/promises');
type Crypto = typeof import('node:crypto');
type Os = typeof import('node:os');
type Path = typeof import('node:path');

/** The Node built-ins the file store uses. */
export interface NodeModules {
  fs: Fs;
  crypto: Crypto;
  os: Os;
  path: Path;
}

let cached: Promise<NodeModules> | undefined;

/** Loads (once) the Node built-ins; rejects outside Node. */
export function nodeModules(): Promise<NodeModules> {
  cached ??= Promise.all([
    import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises'),
    import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:crypto'),
    import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:os'),
    import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path'),
  ]).then(([fs, crypto, os, path]) => ({ fs, crypto, os, path }));
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
