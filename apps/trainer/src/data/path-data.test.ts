import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCsv, writeNpz, writePngFolder } from '../../test/own-data-fixtures.js';
import { DataFormatError } from '../errors.js';
import { encodePng } from './images.js';
import { inputsTensor, loadInputs } from './inputs.js';
import { loadData } from './load.js';
import { encodeNpy } from './npy.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-path-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<DataFormatError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataFormatError);
  return error as DataFormatError;
}

describe('--data PATH: a folder of class folders of images', () => {
  it('reads grey PNGs as bytes, names classes by folder, holds out each class’s test fraction', async () => {
    const root = join(dir, 'png');
    const examples = await writePngFolder(root, { perClass: 20 });
    const data = await loadData({ data: root, testSplit: 0.25 });
    expect(data.name).toBe('images');
    expect(data.classNames).toEqual(['sneaker', 'trouser', 'tshirt']);
    expect(data.inputShape).toEqual([28, 28, 1]);
    expect(data.preprocessing).toEqual({
      format: 'onerun.preprocessing/1',
      kind: 'image',
      inputShape: [28, 28, 1],
      rawDtype: 'uint8',
      mean: [0],
      std: [255],
      imageSize: null,
    });
    expect([data.train.size, data.test.size]).toEqual([45, 15]);
    for (let c = 0; c < 3; c++) expect(data.test.labels.filter((l) => l === c).length).toBe(5);
    // Every test image is one of the source images, byte for byte, under its class.
    const byBytes = new Map(examples.map((e) => [e.pixels.join(), e.label]));
    const folderOf: Record<number, string> = { 0: 'tshirt', 1: 'trouser', 7: 'sneaker' };
    for (let i = 0; i < data.test.size; i++) {
      const label = byBytes.get(data.test.raw.subarray(i * 784, (i + 1) * 784).join());
      expect(label).toBeDefined();
      expect(folderOf[label!]).toBe(data.classNames[data.test.labels[i]!]);
    }
  });

  it('uses train/ and test/ folders, and resizes with imageSize', async () => {
    const root = join(dir, 'splits');
    await writePngFolder(root, { perClass: 8, splits: true });
    const data = await loadData({ data: root, imageSize: [14, 14] });
    expect([data.train.size, data.test.size]).toEqual([18, 6]);
    expect(data.inputShape).toEqual([14, 14, 1]);
    expect(data.preprocessing.imageSize).toEqual([14, 14]);
  });

  it('refuses an empty class folder, mixed sizes, an unreadable image and different train/test classes', async () => {
    const empty = join(dir, 'empty');
    await writePngFolder(empty, { perClass: 2 });
    await mkdir(join(empty, 'zebra'));
    expect((await failure(loadData({ data: empty }))).message).toMatch(
      /class folder .*zebra holds no PNG or JPEG images/,
    );

    const mixed = join(dir, 'mixed');
    await writePngFolder(mixed, { perClass: 2 });
    await writeFile(
      join(mixed, 'tshirt', 'zz-big.png'),
      encodePng(new Uint8Array(30 * 30), 30, 30, 1),
    );
    const e = await failure(loadData({ data: mixed }));
    expect(e.message).toMatch(
      /zz-big.png is 30×30 but .* is 28×28; images of mixed sizes need --image-size/,
    );
    expect((await loadData({ data: mixed, imageSize: [28, 28] })).train.size).toBeGreaterThan(0);

    const broken = join(dir, 'broken');
    await writePngFolder(broken, { perClass: 2 });
    await writeFile(join(broken, 'bag.png'), 'not in a class folder: ignored');
    await writeFile(join(broken, 'trouser', 'oops.png'), 'not a png');
    expect((await failure(loadData({ data: broken }))).message).toMatch(
      /trouser\/oops.png is not a readable image/,
    );

    const classes = join(dir, 'classes');
    await writePngFolder(classes, { perClass: 8, splits: true });
    await rm(join(classes, 'test', 'sneaker'), { recursive: true });
    expect((await failure(loadData({ data: classes }))).message).toMatch(
      /train and test have different classes: .*test lacks sneaker/,
    );
  });
});

describe('--data PATH: CSV', () => {
  it('reads numeric features and a text label column, standardised with the training split’s statistics', async () => {
    const path = join(dir, 'iris.csv');
    const rows = await writeCsv(path, 90);
    const data = await loadData({ data: path, testSplit: 0.2 });
    expect(data.name).toBe('csv');
    expect(data.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(data.inputShape).toEqual([4]);
    expect([data.train.size, data.test.size]).toEqual([72, 18]);
    const { preprocessing: p } = data;
    expect(p).toMatchObject({ kind: 'features', rawDtype: 'float32', imageSize: null });
    // Mean of feature a over the training rows only, by hand.
    const train = data.train.raw;
    let sum = 0;
    for (let i = 0; i < 72; i++) sum += train[i * 4]!;
    expect(p.mean[0]).toBeCloseTo(sum / 72, 5);
    expect(p.std[3]).toBe(1); // a constant column keeps std 1
    expect(p.mean[3]).toBe(1);
    // Model inputs are (raw − mean) / std.
    const { xs, ys } = data.train.range(0, 1);
    const x = await xs.data();
    expect(x[0]).toBeCloseTo((train[0]! - p.mean[0]!) / p.std[0]!, 5);
    expect(x[3]).toBe(0);
    tf.dispose([xs, ys]);
    expect(rows.length).toBe(90);
  });

  it('takes the label column by name or number, and names the row and column of a bad cell', async () => {
    const path = join(dir, 'first.csv');
    await writeFile(path, 'label,x,y\ncat,1,2\ndog,3,4\ncat,1.5,2\ndog,3,4.5\ncat,1,2\ndog,3,4\n');
    const data = await loadData({ data: path, labelColumn: 'label', testSplit: 0.34 });
    expect(data.classNames).toEqual(['cat', 'dog']);
    expect(data.inputShape).toEqual([2]);
    expect((await loadData({ data: path, labelColumn: '1', testSplit: 0.34 })).classNames).toEqual([
      'cat',
      'dog',
    ]);
    expect((await failure(loadData({ data: path, labelColumn: 'kind' }))).message).toMatch(
      /has no label column 'kind' \(columns label, x, y; 3 columns\)/,
    );
    expect((await failure(loadData({ data: path }))).message).toMatch(
      /first.csv line 2, column 'label' \(1\): 'cat' is not a number/,
    );
  });
});

describe('--data PATH: NumPy', () => {
  it('reads an .npz with x and y (uint8 images keep the pixel scaling) and one with x_train … y_test', async () => {
    const path = join(dir, 'fm.npz');
    await writeNpz(path, 10);
    const data = await loadData({ data: path, testSplit: 0.2 });
    expect(data.name).toBe('numpy');
    expect(data.classNames).toEqual(['0', '1', '7']);
    expect(data.inputShape).toEqual([28, 28, 1]);
    expect(data.preprocessing).toMatchObject({
      kind: 'image',
      rawDtype: 'uint8',
      mean: [0],
      std: [255],
    });
    expect([data.train.size, data.test.size]).toEqual([24, 6]);

    const keras = join(dir, 'keras.npz');
    const x = encodeNpy([4, 2], Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7));
    const y = encodeNpy([4], Int32Array.of(0, 1, 0, 1));
    await writeFile(
      keras,
      zipSync({ 'x_train.npy': x, 'y_train.npy': y, 'x_test.npy': x, 'y_test.npy': y }),
    );
    const k = await loadData({ data: keras });
    expect([k.train.size, k.test.size, k.preprocessing.kind]).toEqual([4, 4, 'features']);
    expect(k.preprocessing.mean).toEqual([3, 4]);
  });

  it('reads a pair of .npy files, and refuses an .npz without x and y', async () => {
    const folder = join(dir, 'pair');
    await mkdir(folder);
    await writeFile(
      join(folder, 'x.npy'),
      encodeNpy(
        [6, 3],
        Float32Array.from({ length: 18 }, (_, i) => i),
      ),
    );
    await writeFile(join(folder, 'y.npy'), encodeNpy([6], Int32Array.of(0, 1, 2, 0, 1, 2)));
    for (const data of [
      await loadData({ data: folder, testSplit: 0.34 }),
      await loadData({ data: join(folder, 'x.npy'), testSplit: 0.34 }),
    ]) {
      expect([data.train.size, data.test.size, data.classes]).toEqual([3, 3, 3]);
    }
    const bad = join(dir, 'bad.npz');
    await writeFile(bad, zipSync({ 'images.npy': encodeNpy([1], Int32Array.of(1)) }));
    expect((await failure(loadData({ data: bad }))).message).toMatch(
      /bad.npz holds arrays images; expected 'x' and 'y'/,
    );
  });
});

describe('loadInputs (predict)', () => {
  it('reads one image, an image folder, a CSV without labels and an .npz, as training preprocessed them', async () => {
    const root = join(dir, 'inputs-png');
    await writePngFolder(root, { perClass: 3 });
    const data = await loadData({ data: root, testSplit: 0.34 });
    const folder = await loadInputs(root, data.preprocessing);
    expect([folder.count, folder.shape]).toEqual([9, [28, 28, 1]]);
    expect(folder.labels?.slice(0, 1)).toEqual(['sneaker']);
    const one = await loadInputs(join(root, folder.names[0]!), data.preprocessing);
    expect(one.count).toBe(1);
    expect([...one.raw]).toEqual([...folder.raw.subarray(0, 784)]);
    const x = inputsTensor(one, data.preprocessing);
    expect((await x.data())[300]).toBe(Math.fround(one.raw[300]! * (1 / 255)));
    x.dispose();

    const csvPath = join(dir, 'in.csv');
    await writeCsv(csvPath, 30);
    const csv = await loadData({ data: csvPath });
    const unlabelled = join(dir, 'unlabelled.csv');
    await writeFile(unlabelled, 'a,b,c,const\n1,2,3,1\n4,5,6,1\n');
    const rows = await loadInputs(unlabelled, csv.preprocessing);
    expect([rows.count, rows.labels, [...rows.raw]]).toEqual([
      2,
      undefined,
      [1, 2, 3, 1, 4, 5, 6, 1],
    ]);
    const labelled = await loadInputs(csvPath, csv.preprocessing);
    expect(labelled.labels?.[0]).toBe('setosa');
    await expect(loadInputs(join(dir, 'first.csv'), csv.preprocessing)).rejects.toThrow(
      /has 3 columns; the run takes 4 features/,
    );

    const npz = join(dir, 'fm.npz');
    const arrays = await loadInputs(npz, data.preprocessing);
    expect([arrays.count, arrays.shape]).toEqual([30, [28, 28, 1]]);
    await expect(loadInputs(npz, csv.preprocessing)).rejects.toThrow(DataFormatError);
  });
});
