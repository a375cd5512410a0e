import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readIdxFile } from '../src/data/idx.js';
import { encodePng } from '../src/data/images.js';
import { embeddedDataDir } from '../src/data/locate.js';
import { encodeNpy } from '../src/data/npy.js';

/** Images and labels from the embedded Fashion-MNIST slice: the first `perClass` of classes `classes`. */
export async function fashionSlice(classes: number[], perClass: number) {
  const images = await readIdxFile(join(embeddedDataDir(), 'train-images-idx3-ubyte.gz'));
  const labels = await readIdxFile(join(embeddedDataDir(), 'train-labels-idx1-ubyte.gz'));
  const picked: { label: number; pixels: Uint8Array; index: number }[] = [];
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.data.length; i++) {
    const label = labels.data[i]!;
    if (!classes.includes(label) || (counts.get(label) ?? 0) >= perClass) continue;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    picked.push({ label, pixels: images.data.subarray(i * 784, (i + 1) * 784), index: i });
  }
  return picked;
}

/** The class folder names the fixtures use for Fashion-MNIST labels. */
export const FOLDER_NAMES: Record<number, string> = {
  0: 'tshirt',
  1: 'trouser',
  7: 'sneaker',
  8: 'bag',
};

/**
 * Writes a PNG class folder from the embedded Fashion-MNIST slice (grey 28×28 PNGs named by their
 * index in the slice): `root/<class>/<index>.png`, or under `root/train` and `root/test`.
 */
export async function writePngFolder(
  root: string,
  options: { classes?: number[]; perClass?: number; splits?: boolean } = {},
) {
  const classes = options.classes ?? [0, 1, 7];
  const examples = await fashionSlice(classes, options.perClass ?? 20);
  for (const [k, ex] of examples.entries()) {
    const part = options.splits ? (k % 4 === 0 ? 'test' : 'train') : '';
    const dir = join(root, part, FOLDER_NAMES[ex.label]!);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, `${String(ex.index).padStart(5, '0')}.png`),
      encodePng(ex.pixels, 28, 28, 1),
    );
  }
  return examples;
}

/**
 * A CSV of `n` rows: four features (two informative, separated by class) and a text label in
 * the last column `species`, with a header row.
 */
export async function writeCsv(path: string, n = 90): Promise<string[][]> {
  const names = ['setosa', 'versicolor', 'virginica'];
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const jitter = ((i * 7919) % 101) / 101;
    rows.push([
      String(c * 2 + jitter),
      String(10 - c * 3 + jitter),
      String((i * 13) % 7),
      '1',
      names[c]!,
    ]);
  }
  await writeFile(
    path,
    `${['a', 'b', 'c', 'const', 'species'].join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`,
  );
  return rows;
}

/** An `.npz` with `x` (uint8 images `[n, 28, 28]` from the slice) and `y` (int32 labels). */
export async function writeNpz(path: string, perClass = 15) {
  const examples = await fashionSlice([0, 1, 7], perClass);
  const x = new Uint8Array(examples.length * 784);
  for (const [i, e] of examples.entries()) x.set(e.pixels, i * 784);
  const y = Int32Array.from(examples, (e) => e.label);
  await writeFile(
    path,
    zipSync({
      'x.npy': encodeNpy([examples.length, 28, 28], x),
      'y.npy': encodeNpy([examples.length], y),
    }),
  );
  return { x, y };
}
