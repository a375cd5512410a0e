import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const reader = fileURLToPath(new URL('./tensorboard-read.py', import.meta.url));

/**
 * The Python with `tensorboard` installed: ONERUN_TENSORBOARD_PYTHON, the venv `.ci/run` makes
 * (`.venv-tensorboard`), or python3; `undefined` when none imports it.
 */
export function pythonWithTensorboard(): Promise<string | undefined> {
  const venv = join(repo, '.venv-tensorboard', 'bin', 'python');
  const python = process.env.ONERUN_TENSORBOARD_PYTHON ?? (existsSync(venv) ? venv : 'python3');
  return new Promise((resolve) =>
    execFile(python, ['-c', 'import tensorboard'], (error) => resolve(error ? undefined : python)),
  );
}

/** Scalars of every run under a folder: run → tag → [step, value][], plus the file version. */
export type Scalars = Record<
  string,
  Record<string, [number, number][]> & { __file_version: number }
>;

/** Every event file under `dir`, read by TensorBoard's own `EventAccumulator`. */
export function readEvents(python: string, dir: string): Promise<Scalars> {
  return new Promise((resolve, reject) =>
    execFile(python, [reader, dir], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}
