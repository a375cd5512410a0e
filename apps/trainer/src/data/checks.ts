import { IdxFormatError } from '../errors.js';
import type { IdxArray } from './idx.js';

/** The four IDX files of a data set, parsed, with their paths (for messages). */
export interface IdxFiles {
  trainImages: { path: string; idx: IdxArray };
  trainLabels: { path: string; idx: IdxArray };
  testImages: { path: string; idx: IdxArray };
  testLabels: { path: string; idx: IdxArray };
}

const shapeOf = (idx: IdxArray) => `[${idx.dims.join(', ')}]`;

function checkPair(
  images: { path: string; idx: IdxArray },
  labels: { path: string; idx: IdxArray },
): void {
  if (images.idx.dims.length !== 3 || images.idx.dims.some((d) => d === 0)) {
    throw new IdxFormatError(
      `${images.path} holds ${shapeOf(images.idx)}; expected images [n, rows, cols] with n, rows, cols ≥ 1.`,
    );
  }
  if (labels.idx.dims.length !== 1 || labels.idx.dims[0] !== images.idx.dims[0]) {
    throw new IdxFormatError(
      `${labels.path} holds ${shapeOf(labels.idx)} but ${images.path} holds ${shapeOf(images.idx)}; ` +
        `expected one label per image ([${images.idx.dims[0]}]).`,
    );
  }
}

function checkLabels(labels: { path: string; idx: IdxArray }, classes: number): void {
  const data = labels.idx.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i]! >= classes) {
      throw new IdxFormatError(
        `${labels.path}: label ${data[i]} at index ${i}; expected labels 0…${classes - 1}.`,
      );
    }
  }
}

/**
 * Checks a data set's four files against each other before anything is trained: images are
 * `[n, rows, cols]`, each split has one label per image, test images have the training images'
 * size, and every label is a class. Errors (`IdxFormatError`) name the file and both shapes.
 */
export function checkIdxFiles(files: IdxFiles, classes: number): void {
  checkPair(files.trainImages, files.trainLabels);
  checkPair(files.testImages, files.testLabels);
  const [, rows, cols] = files.trainImages.idx.dims;
  const [, testRows, testCols] = files.testImages.idx.dims;
  if (rows !== testRows || cols !== testCols) {
    throw new IdxFormatError(
      `${files.testImages.path} holds ${testRows}×${testCols} images but ${files.trainImages.path} ` +
        `holds ${rows}×${cols} (shapes ${shapeOf(files.testImages.idx)} and ${shapeOf(files.trainImages.idx)}); ` +
        'expected test images of the training images’ size.',
    );
  }
  checkLabels(files.trainLabels, classes);
  checkLabels(files.testLabels, classes);
}
