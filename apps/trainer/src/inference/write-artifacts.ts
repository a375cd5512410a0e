import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Largest weight shard, as tfjs's converter writes them (browsers cache files of this size well). */
export const SHARD_BYTES = 4 * 1024 * 1024;

function bytesOf(data: tf.io.WeightData | undefined): Uint8Array {
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(new Uint8Array(part), at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Saves `model` into `dir` as tfjs's own artifacts — `model.json` and weight shards
 * `group1-shardXofN.bin` of at most {@link SHARD_BYTES} — the layout `tf.loadLayersModel` reads
 * over `http(s)://` and `file://`. Returns the file names written.
 */
export async function writeModelArtifacts(model: tf.LayersModel, dir: string): Promise<string[]> {
  let written: string[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = bytesOf(artifacts.weightData);
      const count = Math.max(1, Math.ceil(weights.byteLength / SHARD_BYTES));
      const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
      await mkdir(dir, { recursive: true });
      for (const [i, path] of paths.entries()) {
        await writeFile(join(dir, path), weights.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
      }
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
      written = ['model.json', ...paths];
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return written;
}
