import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataNotFoundError, IdxFormatError } from '../errors.js';
import { encodeIdx, parseIdx, readIdxFile } from './idx.js';
import { loadData } from './load.js';
import { embeddedDataDir, locateData } from './locate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a tiny MNIST-style set: n images of 3×2 pixels whose bytes are i*6+p, labels i % 10. */
async function writeTinySet(folder: string, n: number, gzip: boolean): Promise<void> {
  const images = Uint8Array.from({ length: n * 6 }, (_, k) => k % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const files: [string, number[], Uint8Array][] = [
    ['train-images-idx3-ubyte', [n, 3, 2], images],
    ['train-labels-idx1-ubyte', [n], labels],
    ['t10k-images-idx3-ubyte', [n, 3, 2], images],
    ['t10k-labels-idx1-ubyte', [n], labels],
  ];
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder, { recursive: true });
  for (const [name, dims, data] of files) {
    const bytes = encodeIdx(dims, data);
    await writeFile(join(folder, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  }
}

describe('IDX reader', () => {
  it('round-trips plain and gzipped files', async () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256);
    const bytes = encodeIdx([2, 3, 4], data);
    // Header by hand: magic 0 0 8 3, then big-endian dims.
    expect([...bytes.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    for (const input of [bytes, gzipSync(bytes)]) {
      const parsed = parseIdx(input);
      expect(parsed.dims).toEqual([2, 3, 4]);
      expect([...parsed.data]).toEqual([...data]);
    }
    const path = join(dir, 'x.idx.gz');
    await writeFile(path, gzipSync(bytes));
    expect((await readIdxFile(path)).dims).toEqual([2, 3, 4]);
  });

  it('refuses truncated files, other types and non-IDX bytes', () => {
    const bytes = encodeIdx([4], Uint8Array.of(1, 2, 3, 4));
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 1))).toThrow(/says 4.*truncated/);
    const float = Uint8Array.from(bytes);
    float[2] = 0x0d;
    expect(() => parseIdx(float)).toThrow(IdxFormatError);
    expect(() => parseIdx(Uint8Array.of(1, 2, 3, 4, 5))).toThrow(/bad magic/);
  });

  it('reads the embedded Fashion-MNIST slice headers', async () => {
    const root = embeddedDataDir();
    const images = await readIdxFile(join(root, 'train-images-idx3-ubyte.gz'));
    const labels = await readIdxFile(join(root, 't10k-labels-idx1-ubyte.gz'));
    expect(images.dims).toEqual([10000, 28, 28]);
    expect(labels.dims).toEqual([2000]);
    expect(Math.max(...labels.data)).toBe(9);
  });
});

describe('data location', () => {
  const none = { 'fashion-mnist': '/nonexistent/fm', mnist: '/nonexistent/mnist' };

  it('names every place tried and the fix when nothing is found', () => {
    let error: unknown;
    try {
      locateData('mnist', { env: {}, debianDirs: none });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataNotFoundError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('--data-dir (not given)');
    expect(message).toContain('$ONERUN_DATA_DIR (unset)');
    expect(message).toContain('/nonexistent/mnist (no such folder)');
    expect(message).toMatch(/pass --data-dir DIR or set ONERUN_DATA_DIR=DIR/);
  });

  it('does not fall through past an explicit folder without the files', async () => {
    const empty = join(dir, 'empty');
    await writeTinySet(join(dir, 'partial'), 2, true);
    await rm(join(dir, 'partial', 't10k-labels-idx1-ubyte.gz'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(empty, { recursive: true });
    expect(() => locateData('fashion-mnist', { dataDir: empty, env: {} })).toThrow(
      /No fashion-mnist IDX files found: tried .*empty \(missing train-images-idx3-ubyte.*point --data-dir/,
    );
    expect(() =>
      locateData('fashion-mnist', { env: { ONERUN_DATA_DIR: join(dir, 'partial') } }),
    ).toThrow(/partial \(missing t10k-labels-idx1-ubyte\).*fix ONERUN_DATA_DIR/);
  });

  it('searches --data-dir, then the variable (folder or parent), then Debian, then the embedded copy', async () => {
    await writeTinySet(join(dir, 'root', 'mnist'), 3, false);
    expect(locateData('mnist', { env: { ONERUN_DATA_DIR: join(dir, 'root') } })).toMatchObject({
      dir: join(dir, 'root'),
      origin: 'env',
      files: { trainImages: join(dir, 'root', 'mnist', 'train-images-idx3-ubyte') },
    });
    expect(
      locateData('mnist', { dataDir: join(dir, 'root', 'mnist'), env: { ONERUN_DATA_DIR: '/x' } })
        .origin,
    ).toBe('data-dir');
    expect(locateData('fashion-mnist', { env: {}, debianDirs: none })).toMatchObject({
      origin: 'embedded',
      dir: embeddedDataDir(),
    });
  });
});

describe('loadData', () => {
  it('keeps the bytes, scales pixels to [0, 1] per batch, one-hot encodes labels, splits validation from the end', async () => {
    await writeTinySet(join(dir, 'tiny'), 10, true);
    const before = tf.memory().numTensors;
    const data = await loadData({
      data: 'mnist',
      dataDir: join(dir, 'tiny'),
      valSplit: 0.2,
      env: {},
    });
    expect(data.inputShape).toEqual([3, 2, 1]);
    expect(data.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(data.preprocessing).toMatchObject({
      kind: 'image',
      rawDtype: 'uint8',
      mean: [0],
      std: [255],
    });
    expect([data.train.size, data.val?.size, data.test.size]).toEqual([8, 2, 10]);
    expect(data.train.raw).toBeInstanceOf(Uint8Array);
    // No tensors are held: inputs are made per batch.
    expect(tf.memory().numTensors).toBe(before);
    const { xs, ys } = data.val!.range(0, 2);
    expect(xs.shape).toEqual([2, 3, 2, 1]);
    const pixels = await xs.data();
    // Example 8's first pixel is byte 48; the validation split starts at example 8.
    expect(pixels[0]).toBe(Math.fround(48 * (1 / 255)));
    expect([...data.val!.labels]).toEqual([8, 9]);
    expect(await ys.array()).toEqual([
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ]);
    const taken = data.train.take([7, 0]);
    expect((await taken.xs.data())[0]).toBe(Math.fround(42 * (1 / 255)));
    const argMax = taken.ys.argMax(1);
    expect(await argMax.array()).toEqual([7, 0]);
    argMax.dispose();
    tf.dispose([xs, ys, taken.xs, taken.ys]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('makes the same synthetic set from the same seed and another from another seed', async () => {
    const a = await loadData({ data: 'synthetic', seed: 3 });
    const b = await loadData({ data: 'synthetic', seed: 3 });
    const c = await loadData({ data: 'synthetic', seed: 4 });
    expect([a.train.size, a.test.size, a.classes]).toEqual([512, 128, 4]);
    expect(a.classNames).toEqual(['class-0', 'class-1', 'class-2', 'class-3']);
    expect(a.train.raw).toEqual(b.train.raw);
    expect(a.train.raw).not.toEqual(c.train.raw);
    const x = a.train.raw;
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
    // Synthetic pixels are model inputs as they are (mean 0, std 1).
    const first = a.train.range(0, 1);
    expect(await first.xs.data()).toEqual(x.subarray(0, 64));
    tf.dispose([first.xs, first.ys]);
  });

  it('names the Fashion-MNIST classes', async () => {
    const data = await loadData({ data: 'fashion-mnist', trainLimit: 4, testLimit: 4, env: {} });
    expect(data.classNames[0]).toBe('T-shirt/top');
    expect(data.classNames[9]).toBe('Ankle boot');
  });
});
