import type { LoadedData } from '../data/load.js';
import type { Preprocessing } from '../data/preprocessing.js';
import { readJsonIfExists, writeJson } from './files.js';
import type { RunFolder } from './folder.js';

/** `classes.json`: the class names, index i naming class i. */
export interface ClassesFile {
  classes: string[];
}

/**
 * Writes what `predict` and `export` need to treat new inputs as training did: `classes.json`
 * (class names) and `preprocessing.json` (`Preprocessing`: example shape, raw type, mean, std).
 */
export async function writeDataRecords(folder: RunFolder, data: LoadedData): Promise<void> {
  await writeJson(folder.path('classes'), { classes: data.classNames } satisfies ClassesFile);
  await writeJson(folder.path('preprocessing'), data.preprocessing);
}

/** A run folder's class names and preprocessing, or `undefined` for folders written before them. */
export async function readDataRecords(
  folder: RunFolder,
): Promise<{ classes: string[]; preprocessing: Preprocessing } | undefined> {
  const classes = await readJsonIfExists<ClassesFile>(folder.path('classes'));
  const preprocessing = await readJsonIfExists<Preprocessing>(folder.path('preprocessing'));
  return classes && preprocessing ? { classes: classes.classes, preprocessing } : undefined;
}
