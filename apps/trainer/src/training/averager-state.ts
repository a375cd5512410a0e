import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OnerunError } from '@onerun/core';
import { type AveragerState, Swag, type SwagState, WeightAverager } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJson } from '../run-folder/files.js';

/** An averager state beside a checkpoint is missing, unreadable or damaged. */
export class AveragerStateError extends OnerunError {
  readonly path: string;

  constructor(path: string, detail: string) {
    super(
      'AVERAGER_STATE',
      `${path}: ${detail}; expected the averager state onerun saved with the checkpoint.`,
    );
    this.path = path;
  }
}

// An averager's state beside the checkpoints: `averager-<step>.json` (kind, count, specs, weight
// manifest, the SHA-256 of the .bin, …) and `averager-<step>.bin` (its tensors, tfjs's weight
// encoding). A SWA averager stores its running sum (`stores: 'sum'`: resumes bit for bit at any
// count; older files hold the mean, restored as mean × count); a SWAG its mean, mean of squares
// and deviation columns (oldest first). A .bin whose checksum differs is refused.

const PREFIX = 'averager-';

/** What a SWA run averages with: the SWA running mean, or SWAG (which keeps that mean too). */
export type RunAverager = WeightAverager | Swag;

type Meta =
  | ({ kind?: 'swa'; stores?: 'sum' } & Omit<AveragerState, 'tensors' | 'sum'>)
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
    const { tensors: averaged, sum, ...rest } = averager.getState();
    tf.dispose(averaged);
    tensors = sum as tf.Tensor[];
    meta = { kind: 'swa', stores: 'sum', ...rest };
  }
  try {
    const named = tensors.map((tensor, i) => ({ name: `w${i}`, tensor }));
    const { data, specs } = await tf.io.encodeWeights(named);
    const bytes = new Uint8Array(data);
    await writeFileAtomic(join(dir, `${name}.bin`), bytes);
    await writeJson(join(dir, `${name}.json`), { ...meta, manifest: specs, sha256: sha256(bytes) });
  } finally {
    tf.dispose(tensors);
  }
  return `${name}.json`;
}

/** Writes the state for the checkpoint after `step` updates; returns the JSON file's name. */
export function saveAveragerState(dir: string, step: number, averager: RunAverager) {
  return saveAverager(dir, `${PREFIX}${step}`, averager);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Rebuilds the averager saved as `file` in `dir` (a new object the caller owns). A missing,
 * unreadable or damaged state (its .bin's checksum differs from the one recorded) is an
 * `AveragerStateError` naming the file.
 */
export async function loadAverager(dir: string, file: string): Promise<RunAverager> {
  const path = join(dir, file);
  const binPath = path.replace(/\.json$/, '.bin');
  let meta: Meta & { manifest: tf.io.WeightsManifestEntry[]; sha256?: string };
  let bytes: Uint8Array;
  try {
    meta = JSON.parse(await readFile(path, 'utf8'));
    bytes = await readFile(binPath);
  } catch (error) {
    throw new AveragerStateError(path, (error as Error).message);
  }
  if (meta.sha256 !== undefined && sha256(bytes) !== meta.sha256) {
    throw new AveragerStateError(binPath, `checksum mismatch (expected sha256 ${meta.sha256})`);
  }
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
    const { kind: _kind, stores, ...state } = rest;
    if (stores === 'sum') {
      const mean = tensors.map((t) => tf.div(t, state.count));
      try {
        return WeightAverager.fromState({ ...state, tensors: mean, sum: tensors });
      } finally {
        tf.dispose(mean);
      }
    }
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
