import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appDir } from '../app-dir.js';
import { DataNotFoundError } from '../errors.js';

/** The real data sets the app reads from IDX files. */
export type IdxDataName = 'fashion-mnist' | 'mnist';

/** Environment variable naming a data folder (the set itself, or a parent holding `<name>/`). */
export const DATA_DIR_ENV = 'ONERUN_DATA_DIR';

/** Where Debian's `dataset-*` packages install each set. */
export const DEBIAN_DATA_DIRS: Record<IdxDataName, string> = {
  'fashion-mnist': '/usr/share/datasets/fashion-mnist',
  mnist: '/usr/share/datasets/mnist',
};

/**
 * The Fashion-MNIST slice committed with the app (first 10k train / 2k test images). Resolved
 * from this module's location: `src/` in tests and `dist/` when built both sit one level below
 * the app root.
 */
export function embeddedDataDir(): string {
  return `${join(appDir(), 'data', 'fashion-mnist-mini')}/`;
}

/** The four IDX files of an MNIST-style set. */
export interface IdxFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

/** A located data set: its folder, files and where it came from. */
export interface DataLocation {
  dir: string;
  files: IdxFiles;
  origin: 'data-dir' | 'env' | 'debian' | 'embedded';
}

const STEMS: Record<keyof IdxFiles, string[]> = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
};

const NEEDED =
  'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or plain)';

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function findFile(dir: string, stems: string[]): string | undefined {
  for (const stem of stems) {
    for (const name of [`${stem}.gz`, stem]) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** The IDX files in `dir`, or why it does not qualify. */
function filesIn(dir: string): IdxFiles | string {
  if (!isDir(dir)) return 'no such folder';
  const found: Partial<IdxFiles> = {};
  const missing: string[] = [];
  for (const key of Object.keys(STEMS) as (keyof IdxFiles)[]) {
    const path = findFile(dir, STEMS[key]);
    if (path) found[key] = path;
    else missing.push(STEMS[key][0]!);
  }
  return missing.length === 0 ? (found as IdxFiles) : `missing ${missing.join(', ')}`;
}

/** `dir` itself, then `dir/<name>`: the first that holds all four files. */
function searchRoot(dir: string, name: IdxDataName, tried: string[]): IdxFiles | undefined {
  for (const candidate of [dir, join(dir, name)]) {
    const files = filesIn(candidate);
    if (typeof files !== 'string') return files;
    tried.push(`${candidate} (${files})`);
  }
  return undefined;
}

/**
 * Finds `name` in this order: `dataDir` (the `--data-dir` option), the `ONERUN_DATA_DIR`
 * environment variable, Debian's install location, then the embedded slice (Fashion-MNIST only).
 * A folder named explicitly (option or variable) must hold the files: the search does not fall
 * through past it, so a typo never silently trains on other data. Throws `DataNotFoundError`
 * listing what was tried.
 */
export function locateData(
  name: IdxDataName,
  options: {
    dataDir?: string;
    env?: NodeJS.ProcessEnv;
    debianDirs?: Record<IdxDataName, string>;
  } = {},
): DataLocation {
  const env = options.env ?? process.env;
  const debian = options.debianDirs ?? DEBIAN_DATA_DIRS;
  const tried: string[] = [];
  const explicit: [string | undefined, DataLocation['origin'], string][] = [
    [options.dataDir, 'data-dir', 'point --data-dir at a folder holding them'],
    [env[DATA_DIR_ENV] || undefined, 'env', `fix ${DATA_DIR_ENV} or unset it`],
  ];
  for (const [dir, origin, fix] of explicit) {
    if (dir === undefined) continue;
    const abs = resolve(dir);
    const files = searchRoot(abs, name, tried);
    if (files) return { dir: abs, files, origin };
    throw new DataNotFoundError(
      `No ${name} IDX files found: tried ${tried.join('; ')}. Needed: ${NEEDED}; ${fix}.`,
      tried,
    );
  }
  tried.push(`--data-dir (not given)`, `$${DATA_DIR_ENV} (unset)`);
  const fallbacks: [string, DataLocation['origin']][] = [[debian[name], 'debian']];
  if (name === 'fashion-mnist') fallbacks.push([embeddedDataDir(), 'embedded']);
  for (const [dir, origin] of fallbacks) {
    const files = filesIn(dir);
    if (typeof files !== 'string') return { dir, files, origin };
    tried.push(`${dir} (${files})`);
  }
  throw new DataNotFoundError(
    `No ${name} IDX files found: tried ${tried.join('; ')}. Download the four files (${NEEDED}) ` +
      `into a folder and pass --data-dir DIR or set ${DATA_DIR_ENV}=DIR.`,
    tried,
  );
}
