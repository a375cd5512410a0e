import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  assertFits,
  type Locate,
  MODEL_JSON,
  modelFromArtifacts,
  OPTIMIZER_BIN,
  OPTIMIZER_JSON,
  type ParsedModel,
  parseModelJson,
  toArtifacts,
  WEIGHTS_BIN,
  writeDecoded,
} from './artifacts.js';
import { OptimizerStateError } from './errors.js';
import { prepareOptimizerState } from './optimizer-state.js';
import type { SnapshotEntry } from './store.js';

/**
 * Reads the named files of a snapshot, each verified against its recorded size and checksum.
 * `owned` says whether the returned bytes are fresh (tensors may then view them without a copy).
 */
export type ReadVerified = ((names: readonly string[]) => Promise<Map<string, Uint8Array>>) & {
  owned?: boolean;
};

/** The verified `model.json` (parsed) and `weights.bin` of a snapshot. */
async function readModelFiles(
  entry: SnapshotEntry,
  locate: Locate,
  read: ReadVerified,
): Promise<{ parsed: ParsedModel; weights: Uint8Array }> {
  const files = await read([MODEL_JSON, WEIGHTS_BIN]);
  const weights = files.get(WEIGHTS_BIN)!;
  const parsed = parseModelJson(entry.id, locate, files.get(MODEL_JSON)!, weights.byteLength);
  return { parsed, weights };
}

/** The verified `tf.io.ModelArtifacts` of a snapshot. */
export async function verifiedArtifacts(
  entry: SnapshotEntry,
  locate: Locate,
  read: ReadVerified,
): Promise<tf.io.ModelArtifacts> {
  const { parsed, weights } = await readModelFiles(entry, locate, read);
  return toArtifacts(parsed, weights);
}

/** A new, uncompiled model from a snapshot's verified files, by stock `tf.loadLayersModel`. */
export async function loadVerifiedModel(
  entry: SnapshotEntry,
  locate: Locate,
  read: ReadVerified,
): Promise<LayersModel> {
  const { parsed, weights } = await readModelFiles(entry, locate, read);
  return modelFromArtifacts(toArtifacts(parsed, weights));
}

/**
 * Writes a snapshot's verified weights (and optionally optimizer state) into `model`. Every
 * check runs before anything is written, so on error the model is left as it was.
 */
export async function restoreVerified(
  entry: SnapshotEntry,
  locate: Locate,
  read: ReadVerified,
  model: LayersModel,
  includeOptimizer: boolean,
): Promise<void> {
  if (includeOptimizer && entry.hasOptimizer !== true) {
    throw new OptimizerStateError(
      `Snapshot '${entry.id}' was saved without optimizer state; expected one saved with ` +
        'includeOptimizer: true (or load it with includeOptimizer: false).',
    );
  }
  const names = includeOptimizer
    ? [MODEL_JSON, WEIGHTS_BIN, OPTIMIZER_JSON, OPTIMIZER_BIN]
    : [MODEL_JSON, WEIGHTS_BIN];
  const files = await read(names);
  const weights = files.get(WEIGHTS_BIN)!;
  const parsed = parseModelJson(entry.id, locate, files.get(MODEL_JSON)!, weights.byteLength);
  assertFits(entry.id, parsed, model);
  const optimizer = includeOptimizer
    ? prepareOptimizerState(
        entry.id,
        locate,
        model,
        files.get(OPTIMIZER_JSON)!,
        files.get(OPTIMIZER_BIN)!,
      )
    : undefined;
  writeDecoded(model, parsed.specs, weights, read.owned === true);
  await optimizer?.commit();
}
