import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AveragerState } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJson } from './files.js';

// A WeightAverager's state beside the checkpoints: `averager-<step>.json` (mode, count, specs,
// weight manifest) and `averager-<step>.bin` (the averaged tensors, tfjs's weight encoding).

const PREFIX = 'averager-';

/** Writes `state` for the checkpoint after `step` updates; returns the JSON file's name. */
export async function saveAveragerState(
  dir: string,
  step: number,
  state: AveragerState,
): Promise<string> {
  const base = `${PREFIX}${step}`;
  const named = state.tensors.map((tensor, i) => ({ name: `w${i}`, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFileAtomic(join(dir, `${base}.bin`), new Uint8Array(data));
  const { tensors: _tensors, ...rest } = state;
  await writeJson(join(dir, `${base}.json`), { ...rest, manifest: specs });
  return `${base}.json`;
}

/** Reads a state written by `saveAveragerState`; the caller owns (and disposes) its tensors. */
export async function loadAveragerState(dir: string, file: string): Promise<AveragerState> {
  const meta = JSON.parse(await readFile(join(dir, file), 'utf8')) as Omit<
    AveragerState,
    'tensors'
  > & { manifest: tf.io.WeightsManifestEntry[] };
  const bytes = await readFile(join(dir, file.replace(/\.json$/, '.bin')));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const decoded = tf.io.decodeWeights(buffer as ArrayBuffer, meta.manifest);
  const { manifest: _manifest, ...rest } = meta;
  return { ...rest, tensors: meta.manifest.map((s) => decoded[s.name] as tf.Tensor) };
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
