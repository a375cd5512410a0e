import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError } from '../errors.js';
import { type DecodedImage, decodeImage, isImageFile, pixelsOf, resizeBilinear } from './images.js';
import { type LabelledSet, type SourceData, shuffled, splitTrainTest } from './labelled.js';
import { readDataFile } from './read-file.js';

/** Most bytes one image file may hold (256 MiB). */
export const MAX_IMAGE_BYTES = 2 ** 28;

/** Options of `loadImageFolder`. */
export interface ImageFolderOptions {
  /** Resize every image to `[h, w]`; without it all images must share one size. */
  imageSize?: [number, number];
  /** Fraction of each class held out as test when there is no `test/` folder. */
  testSplit: number;
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** Image files under `dir` (recursively), sorted, hidden files skipped. */
export async function imageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await imageFiles(path)));
    else if (isImageFile(e.name)) out.push(path);
  }
  return out;
}

/** The class folders of `root` and their image files; an empty class folder is an error. */
async function classFiles(root: string): Promise<{ classes: string[]; files: string[][] }> {
  const classes = await subfolders(root);
  if (classes.length < 2) {
    throw new DataFormatError(
      root,
      `${root} holds ${classes.length} class folder${classes.length === 1 ? '' : 's'}; expected one subfolder of images per class (at least two).`,
    );
  }
  const files: string[][] = [];
  for (const c of classes) {
    const list = await imageFiles(join(root, c));
    if (list.length === 0) {
      throw new DataFormatError(
        join(root, c),
        `class folder ${join(root, c)} holds no PNG or JPEG images; put the class's images in it or remove it.`,
      );
    }
    files.push(list);
  }
  return { classes, files };
}

/** The size and channels images must have (test images, inputs of a trained model), and what to say if not. */
export interface ExpectedImages {
  height: number;
  width: number;
  channels: 1 | 3;
  /** E.g. `the model takes`: the message reads `<file> is a×b but <what> h×w; <fix>.` */
  what: string;
  fix: string;
}

/** Decodes images one after another, with a few file reads ahead. */
async function decodeAll(
  paths: string[],
  each: (image: DecodedImage, path: string, i: number) => void,
) {
  const ahead = 32;
  const reads: Promise<Uint8Array>[] = [];
  const readAt = (i: number) => {
    const read = readDataFile(paths[i]!, { maxBytes: MAX_IMAGE_BYTES, what: 'image file' });
    // Awaited in order below; a read ahead that fails first must not count as unhandled.
    read.catch(() => {});
    return read;
  };
  for (let i = 0; i < Math.min(ahead, paths.length); i++) reads.push(readAt(i));
  for (let i = 0; i < paths.length; i++) {
    const bytes = await reads[i]!;
    delete reads[i];
    if (i + ahead < paths.length) reads[i + ahead] = readAt(i + ahead);
    each(decodeImage(bytes, paths[i]!), paths[i]!, i);
  }
}

/**
 * Reads the images of some class folders into one byte buffer `[n, h, w, c]`: `c` is 1 when
 * every image is grey, else 3. Without `imageSize` every image must have the first one's size.
 */
export async function readImages(
  paths: string[],
  imageSize: [number, number] | undefined,
  expect?: ExpectedImages,
): Promise<{ pixels: Uint8Array; height: number; width: number; channels: 1 | 3 }> {
  let height = expect?.height ?? imageSize?.[0] ?? 0;
  let width = expect?.width ?? imageSize?.[1] ?? 0;
  let firstPath = '';
  const kept: Uint8Array[] = [];
  const grey: boolean[] = [];
  await decodeAll(paths, (image, path, i) => {
    if (i === 0 && height === 0) {
      height = image.height;
      width = image.width;
      firstPath = path;
    }
    if (!imageSize && (image.height !== height || image.width !== width)) {
      throw new DataFormatError(
        path,
        expect
          ? `${path} is ${image.height}×${image.width} but ${expect.what} ${height}×${width}; ${expect.fix}.`
          : `${path} is ${image.height}×${image.width} but ${firstPath} is ${height}×${width}; images of mixed sizes need --image-size HxW to resize them to one size.`,
      );
    }
    const channels = image.grey ? 1 : 3;
    const pixels = pixelsOf(image, channels);
    kept.push(resizeBilinear(pixels, image.height, image.width, channels, height, width));
    grey.push(image.grey);
  });
  const channels: 1 | 3 = expect?.channels ?? (grey.every(Boolean) ? 1 : 3);
  const per = height * width * channels;
  const out = new Uint8Array(kept.length * per);
  kept.forEach((img, i) => {
    if (grey[i] && channels === 3) {
      for (let p = 0; p < height * width; p++)
        out.fill(img[p]!, i * per + 3 * p, i * per + 3 * p + 3);
    } else if (!grey[i] && channels === 1) {
      // A colour image where the model takes grey: the mean of its channels.
      for (let p = 0; p < height * width; p++)
        out[i * per + p] = Math.round((img[3 * p]! + img[3 * p + 1]! + img[3 * p + 2]!) / 3);
    } else out.set(img, i * per);
    kept[i] = new Uint8Array(0);
  });
  return { pixels: out, height, width, channels };
}

async function readClassFolders(
  files: string[][],
  imageSize: [number, number] | undefined,
  expect?: ExpectedImages,
): Promise<LabelledSet & { channels: 1 | 3 }> {
  const paths = files.flat();
  const labels = new Int32Array(paths.length);
  let k = 0;
  files.forEach((list, c) => {
    labels.fill(c, k, k + list.length);
    k += list.length;
  });
  const { pixels, height, width, channels } = await readImages(paths, imageSize, expect);
  return { raw: pixels, shape: [height, width, channels], labels, channels };
}

function sameClasses(trainDir: string, train: string[], testDir: string, test: string[]): void {
  const extra = test.filter((c) => !train.includes(c));
  const missing = train.filter((c) => !test.includes(c));
  if (extra.length > 0 || missing.length > 0) {
    const parts = [
      missing.length > 0 ? `${testDir} lacks ${missing.join(', ')}` : '',
      extra.length > 0 ? `${testDir} has ${extra.join(', ')} that ${trainDir} lacks` : '',
    ].filter(Boolean);
    throw new DataFormatError(
      testDir,
      `train and test have different classes: ${parts.join('; ')}; give both the same class folders.`,
    );
  }
}

/**
 * Reads a folder of class-named subfolders of PNG/JPEG images (the Keras
 * `image_dataset_from_directory` / torchvision `ImageFolder` layout). With `train/` and `test/`
 * subfolders those are the splits (same classes required); otherwise each class's
 * `testSplit` fraction is held out by a seeded draw.
 */
export async function loadImageFolder(
  root: string,
  options: ImageFolderOptions,
): Promise<SourceData> {
  const top = await subfolders(root);
  const hasSplits = top.includes('train') && top.includes('test');
  const trainRoot = hasSplits ? join(root, 'train') : root;
  const train = await classFiles(trainRoot);
  const base = {
    kind: 'image' as const,
    classes: train.classes,
    imageSize: options.imageSize ?? null,
  };
  if (hasSplits) {
    const testRoot = join(root, 'test');
    const test = await classFiles(testRoot);
    sameClasses(trainRoot, train.classes, testRoot, test.classes);
    const trainSet = await readClassFolders(train.files, options.imageSize);
    const [height, width, channels] = trainSet.shape as [number, number, 1 | 3];
    const testSet = await readClassFolders(test.files, options.imageSize, {
      height,
      width,
      channels,
      what: `the training images in ${trainRoot} are`,
      fix: 'give test images of the training size, or pass --image-size HxW to resize all images',
    });
    return {
      ...base,
      train: shuffled(trainSet),
      test: testSet,
      source: `images:${root} (train/, test/)`,
    };
  }
  const all = await readClassFolders(train.files, options.imageSize);
  return {
    ...base,
    ...splitTrainTest(all, train.classes.length, options.testSplit),
    source: `images:${root} (test split ${options.testSplit})`,
  };
}
