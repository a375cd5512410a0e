// Issue 28, defects 11, 12 and 14: data files that are not regular files (a FIFO, a symbolic
// link to /dev/zero, a folder) are refused by name before a byte is read, and a file is read only
// up to a bound.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFileError } from '../errors.js';
import { encodeIdx } from './idx.js';
import { loadData } from './load.js';
import { readDataFile } from './read-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-read-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tiny MNIST-style folder whose training-images file is replaced by `replace(path)`. */
async function setWith(name: string, replace: (path: string) => Promise<void>): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const images = encodeIdx([4, 2, 2], new Uint8Array(16));
  const labels = encodeIdx([4], Uint8Array.of(0, 1, 2, 3));
  await writeFile(join(folder, 't10k-images-idx3-ubyte'), images);
  await writeFile(join(folder, 'train-labels-idx1-ubyte'), labels);
  await writeFile(join(folder, 't10k-labels-idx1-ubyte'), labels);
  await replace(join(folder, 'train-images-idx3-ubyte'));
  return folder;
}

const load = (dataDir: string) => loadData({ data: 'mnist', dataDir, env: {} });

describe('data files that are not regular files', () => {
  it.runIf(process.platform === 'linux')(
    'defect 11: a FIFO is refused by name at once instead of blocking for ever',
    async () => {
      const folder = await setWith('fifo', async (path) => {
        execFileSync('mkfifo', [path]);
      });
      const fifo = join(folder, 'train-images-idx3-ubyte');
      await expect(load(folder)).rejects.toThrow(DataFileError);
      await expect(load(folder)).rejects.toThrow(`${fifo} is a FIFO (named pipe)`);
    },
    10_000,
  );

  it.runIf(process.platform === 'linux')(
    'defect 12: a symbolic link to /dev/zero is refused, not read without limit',
    async () => {
      const folder = await setWith('zero', (path) => symlink('/dev/zero', path));
      await expect(load(folder)).rejects.toThrow(
        `${join(folder, 'train-images-idx3-ubyte')} is a character device; expected a regular file.`,
      );
    },
    10_000,
  );

  it('defect 14: a folder in place of a data file is named in a DataFileError', async () => {
    const folder = await setWith('folder', (path) => mkdir(path));
    const error = await load(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFileError);
    expect((error as DataFileError).path).toBe(join(folder, 'train-images-idx3-ubyte'));
    expect((error as Error).message).toMatch(/is a folder; expected a regular file/);
  });
});

describe('readDataFile', () => {
  it('reads a regular file whole, and refuses one over the bound before reading it', async () => {
    const path = join(dir, 'bytes.bin');
    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256);
    await writeFile(path, bytes);
    expect(await readDataFile(path, { maxBytes: 3000 })).toEqual(bytes);
    await expect(readDataFile(path, { maxBytes: 2999, what: 'CSV file' })).rejects.toThrow(
      `CSV file ${path} holds 3000 bytes; expected at most 2999.`,
    );
  });

  it('names a missing file', async () => {
    const path = join(dir, 'missing.bin');
    await expect(readDataFile(path, { maxBytes: 10 })).rejects.toThrow(
      `Cannot open data file ${path} (ENOENT)`,
    );
  });
});
