import { existsSync, statSync } from 'node:fs';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ensureFreeSpace } from './disk.js';
import { WheelUnavailableError } from './errors.js';
import { extractZipEntry, listZip, type ZipEntry } from './zip.js';

/** The two libraries of the wheel the addon links against (under `tensorflow/` in the wheel). */
export const TENSORFLOW_LIBRARY = 'libtensorflow_cc.so.2';
export const FRAMEWORK_LIBRARY = 'libtensorflow_framework.so.2';

/**
 * The header trees the C API headers include (`tensorflow/c`, the TString header in
 * `tensorflow/core/platform`, and what they pull from `tsl` and `xla/tsl`), under
 * `tensorflow/include/` in the wheel. The rest (Eigen, absl, protobuf: 250 MB) is not needed.
 */
const HEADER_TREES = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/', 'xla/tsl/'];

/**
 * The names tfjs-node's build and loader look for, each a link to one of the wheel's libraries:
 * `binding.gyp` links `-ltensorflow -ltensorflow_framework`; tfjs-node's install script treats
 * `libtensorflow.so.2.9.1` as "libtensorflow is present".
 */
const LINKS: Record<string, string> = {
  'libtensorflow.so': TENSORFLOW_LIBRARY,
  'libtensorflow.so.2': TENSORFLOW_LIBRARY,
  'libtensorflow.so.2.9.1': TENSORFLOW_LIBRARY,
  'libtensorflow_framework.so': FRAMEWORK_LIBRARY,
  'libtensorflow_framework.so.2.9.1': FRAMEWORK_LIBRARY,
};

/** The record `stageTensorflow` leaves in `deps/`: which wheel is staged, and file sizes to check. */
interface StageRecord {
  wheel: string;
  wheelBytes: number;
  files: Record<string, number>;
}

const RECORD = 'onerun-native.json';

/**
 * Places the wheel's TensorFlow libraries in `<packageDir>/deps/lib` and its C headers in
 * `<packageDir>/deps/include`, the layout tfjs-node's `binding.gyp` builds against. Skips the
 * work when the same wheel is already staged with every file intact; returns whether it staged.
 */
export async function stageTensorflow(
  packageDir: string,
  wheel: string,
  log: (line: string) => void,
): Promise<{ staged: boolean; record: StageRecord }> {
  const deps = join(packageDir, 'deps');
  const existing = await readStageRecord(packageDir);
  const wheelBytes = statSync(wheel).size;
  if (
    existing?.wheel === basename(wheel) &&
    existing.wheelBytes === wheelBytes &&
    intact(deps, existing)
  ) {
    log(`stage: ${deps} already holds ${existing.wheel}`);
    return { staged: false, record: existing };
  }
  let entries: ZipEntry[];
  try {
    entries = await listZip(wheel);
  } catch (error) {
    throw new WheelUnavailableError(
      `${wheel} cannot be read as a wheel: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const wanted = entries.flatMap((entry) => {
    const target = targetOf(entry.name);
    return target === undefined ? [] : [{ entry, target }];
  });
  for (const library of [TENSORFLOW_LIBRARY, FRAMEWORK_LIBRARY]) {
    if (!wanted.some((w) => w.target === `lib/${library}`)) {
      throw new WheelUnavailableError(
        `${wheel} has no tensorflow/${library}; expected an official tensorflow or tensorflow-cpu wheel (2.x, Linux)`,
      );
    }
  }
  const bytes = wanted.reduce((sum, w) => sum + w.entry.size, 0);
  await ensureFreeSpace(packageDir, bytes + 50 * 2 ** 20, `staging TensorFlow into ${deps}`);
  log(
    `stage: unpacking ${wanted.length} files (${(bytes / 2 ** 20).toFixed(0)} MB) of ${basename(wheel)} into ${deps}`,
  );
  await rm(deps, { recursive: true, force: true });
  const files: Record<string, number> = {};
  for (const { entry, target } of wanted) {
    await extractZipEntry(wheel, entry, join(deps, target));
    files[target] = entry.size;
  }
  for (const [link, library] of Object.entries(LINKS)) {
    await symlink(library, join(deps, 'lib', link));
  }
  const record: StageRecord = { wheel: basename(wheel), wheelBytes, files };
  await writeFile(join(deps, RECORD), `${JSON.stringify(record, null, 2)}\n`);
  return { staged: true, record };
}

/** What `stageTensorflow` last staged into the package, if anything. */
async function readStageRecord(packageDir: string): Promise<StageRecord | undefined> {
  const path = join(packageDir, 'deps', RECORD);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StageRecord;
  } catch {
    return undefined;
  }
}

function targetOf(name: string): string | undefined {
  if (name === `tensorflow/${TENSORFLOW_LIBRARY}` || name === `tensorflow/${FRAMEWORK_LIBRARY}`) {
    return `lib/${name.slice('tensorflow/'.length)}`;
  }
  const include = 'tensorflow/include/';
  if (!name.startsWith(include) || name.endsWith('/')) return undefined;
  const relative = name.slice(include.length);
  return HEADER_TREES.some((tree) => relative.startsWith(tree)) ? `include/${relative}` : undefined;
}

function intact(deps: string, record: StageRecord): boolean {
  const links = Object.keys(LINKS).every((link) => existsSync(join(deps, 'lib', link)));
  return (
    links &&
    Object.entries(record.files).every(([file, size]) => {
      const path = join(deps, file);
      return existsSync(path) && statSync(path).size === size;
    })
  );
}
