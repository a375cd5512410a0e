import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type AveragerState, Swag, type SwagState, WeightAverager } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJson } from '../run-folder/files.js';

// An averager's state beside the checkpoints: `averager-<step>.json` (kind, count, specs, weight
// manifest, …) and `averager-<step>.bin` (its tensors, tfjs's weight encoding). A SWA averager
// stores its average; a SWAG its mean, mean of squares and deviation columns (oldest first).

const PREFIX = 'averager-';

/** What a SWA run averages with: the SWA running mean, or SWAG (which keeps that mean too). */
export type RunAverager = WeightAverager | Swag;

type Meta =
  | ({ kind?: 'swa' } & Omit<AveragerState, 'tensors'>)
  | ({ kind: 'swag'; columns: number } & Omit<SwagState, 'mean' | 'squareMean' | 'deviations'>);

/** Writes `averager`'s state as `<name>.json` + `<name>.bin` in `dir`; returns the JSON file's name. */
export async function saveAverager(
  dir: string,
  name: string,
  averager: RunAverager,
): Promise<string> {
  let tensors: tf.Tensor[];
  let meta: Meta;
  if (averager instanceof Swag) {
    const { mean, squareMean, deviations, ...rest } = averager.getState();
    tensors = [...mean, ...squareMean, ...deviations.flat()];
    meta = { kind: 'swag', columns: deviations.length, ...rest };
  } else {
    const { tensors: averaged, ...rest } = averager.getState();
    tensors = averaged;
    meta = { kind: 'swa', ...rest };
  }
  try {
    const named = tensors.map((tensor, i) => ({ name: `w${i}`, tensor }));
    const { data, specs } = await tf.io.encodeWeights(named);
    await writeFileAtomic(join(dir, `${name}.bin`), new Uint8Array(data));
    await writeJson(join(dir, `${name}.json`), { ...meta, manifest: specs });
  } finally {
    tf.dispose(tensors);
  }
  return `${name}.json`;
}

/** Writes the state for the checkpoint after `step` updates; returns the JSON file's name. */
export function saveAveragerState(dir: string, step: number, averager: RunAverager) {
  return saveAverager(dir, `${PREFIX}${step}`, averager);
}

/** Rebuilds the averager saved as `file` in `dir` (a new object the caller owns). */
export async function loadAverager(dir: string, file: string): Promise<RunAverager> {
  const meta = JSON.parse(await readFile(join(dir, file), 'utf8')) as Meta & {
    manifest: tf.io.WeightsManifestEntry[];
  };
  const bytes = await readFile(join(dir, file.replace(/\.json$/, '.bin')));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const decoded = tf.io.decodeWeights(buffer as ArrayBuffer, meta.manifest);
  const tensors = meta.manifest.map((s) => decoded[s.name] as tf.Tensor);
  const { manifest: _manifest, ...rest } = meta;
  try {
    if (rest.kind === 'swag') {
      const { kind: _kind, columns, ...state } = rest;
      const n = state.specs.length;
      return Swag.fromState({
        ...state,
        mean: tensors.slice(0, n),
        squareMean: tensors.slice(n, 2 * n),
        deviations: Array.from({ length: columns }, (_, k) =>
          tensors.slice((2 + k) * n, (3 + k) * n),
        ),
      });
    }
    const { kind: _kind, ...state } = rest;
    return WeightAverager.fromState({ ...state, tensors });
  } finally {
    tf.dispose(tensors);
  }
}

/** Deletes averager states whose step is not among `liveSteps` (checkpoints retention dropped). */
export async function pruneAveragerStates(dir: string, liveSteps: number[]): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const live = new Set(liveSteps.map(String));
  for (const name of names) {
    const m = /^averager-(\d+)\.(json|bin)$/.exec(name);
    if (m && !live.has(m[1]!)) await rm(join(dir, name), { force: true });
  }
}
