import { join } from 'node:path';
import type { Preprocessing } from '../data/preprocessing.js';
import { RunFolderError } from '../errors.js';
import { readJsonIfExists } from '../run-folder/files.js';
import { RUN_LAYOUT } from '../run-folder/folder.js';
import type { RunFile } from '../run-folder/records.js';

/** How raw examples become model inputs (`preprocessing.json`, see `Preprocessing`). */
export type RunPreprocessing = Preprocessing;

const FASHION_MNIST = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Class names of the built-in data sets, for run folders made before `classes.json` existed. */
function builtInClasses(data: string, classes: number): string[] {
  if (data === 'fashion-mnist' && classes === FASHION_MNIST.length) return [...FASHION_MNIST];
  return Array.from({ length: classes }, (_, i) => (data === 'mnist' ? String(i) : `class-${i}`));
}

/**
 * The run's class names: `classes.json`, or for run folders of the built-in data sets made
 * before it was written, their names (Fashion-MNIST's ten, MNIST's digits, `class-i`).
 */
export async function readRunClasses(
  dir: string,
  runFile: RunFile,
  classes: number,
): Promise<string[]> {
  const path = join(dir, RUN_LAYOUT.classes);
  const file = await readJsonIfExists<{ classes?: unknown }>(path);
  if (!file) return builtInClasses(runFile.config.data, classes);
  const names = file.classes;
  if (
    !Array.isArray(names) ||
    names.length !== classes ||
    !names.every((n) => typeof n === 'string')
  ) {
    throw new RunFolderError(
      `${path} must hold {"classes": [...]} with ${classes} names (the model's outputs); it holds ${JSON.stringify(names)?.slice(0, 80)}.`,
    );
  }
  return names as string[];
}

function isNumberList(v: unknown, min = 1): v is number[] {
  return (
    Array.isArray(v) &&
    v.length >= min &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x))
  );
}

/**
 * The run's preprocessing: `preprocessing.json`, checked against the model's input shape, or
 * for run folders made before it was written, what the app did then (IDX pixels / 255; the
 * synthetic set's floats as they are).
 */
export async function readRunPreprocessing(
  dir: string,
  runFile: RunFile,
  inputShape: number[],
): Promise<RunPreprocessing> {
  const path = join(dir, RUN_LAYOUT.preprocessing);
  const file = await readJsonIfExists<Partial<RunPreprocessing>>(path);
  if (!file) {
    const synthetic = runFile.config.data === 'synthetic';
    return {
      format: 'onerun.preprocessing/1',
      kind: 'image',
      inputShape,
      rawDtype: synthetic ? 'float32' : 'uint8',
      mean: [0],
      std: [synthetic ? 1 : 255],
      imageSize: null,
    };
  }
  const channels = inputShape.at(-1) ?? 1;
  const bad = (what: string) =>
    new RunFolderError(
      `${path}: ${what}; the run folder is damaged (expected onerun.preprocessing/1).`,
    );
  if (file.format !== 'onerun.preprocessing/1') throw bad(`format ${JSON.stringify(file.format)}`);
  if (file.kind !== 'image' && file.kind !== 'features')
    throw bad(`kind ${JSON.stringify(file.kind)}`);
  if (file.rawDtype !== 'uint8' && file.rawDtype !== 'float32') {
    throw bad(`rawDtype ${JSON.stringify(file.rawDtype)}`);
  }
  if (!isNumberList(file.inputShape) || file.inputShape.join() !== inputShape.join()) {
    throw bad(
      `inputShape ${JSON.stringify(file.inputShape)} is not the model's input [${inputShape.join(', ')}]`,
    );
  }
  for (const key of ['mean', 'std'] as const) {
    const v = file[key];
    if (!isNumberList(v) || (v.length !== 1 && v.length !== channels)) {
      throw bad(`${key} ${JSON.stringify(v)} is not 1 or ${channels} numbers`);
    }
  }
  if ((file.std as number[]).some((s) => s === 0)) throw bad('std holds 0');
  return {
    format: 'onerun.preprocessing/1',
    kind: file.kind,
    inputShape,
    rawDtype: file.rawDtype,
    mean: file.mean as number[],
    std: file.std as number[],
    imageSize: Array.isArray(file.imageSize) ? (file.imageSize as [number, number]) : null,
  };
}
