import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { exactArrayBuffer, MODEL_JSON } from './artifacts.js';
import { nodeModules } from './node.js';

/**
 * A `tf.io.IOHandler` that loads a tfjs layers-model folder (`model.json` and the weight files
 * its `weightsManifest` names) from the local file system, for plain `@tensorflow/tfjs` in Node,
 * which has no `file://` handler without tfjs-node:
 *
 * ```ts
 * const model = await tf.loadLayersModel(fileSnapshotIO('runs/a/snapshots/snap-000003'));
 * ```
 *
 * `path` is the folder or its `model.json`. It reads whatever is there and checks nothing beyond
 * the weight byte count; load through a store (`store.load(id)`) to verify checksums.
 */
export function fileSnapshotIO(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', path, 'a snapshot folder or its model.json');
  }
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const node = await nodeModules();
      const jsonPath = path.endsWith('.json') ? path : node.path.join(path, MODEL_JSON);
      const folder = node.path.dirname(jsonPath);
      const json = JSON.parse(await node.fs.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      const manifest = json.weightsManifest ?? [];
      const buffers: Uint8Array[] = [];
      for (const group of manifest) {
        for (const file of group.paths) {
          buffers.push(await node.fs.readFile(node.path.join(folder, file)));
        }
      }
      const total = buffers.reduce((s, b) => s + b.byteLength, 0);
      const weights = buffers.length === 1 ? buffers[0]! : new Uint8Array(total);
      if (buffers.length > 1) {
        let offset = 0;
        for (const b of buffers) {
          weights.set(b, offset);
          offset += b.byteLength;
        }
      }
      const artifacts = tf.io.getModelArtifactsForJSONSync(
        json,
        manifest.flatMap((g) => g.weights),
        exactArrayBuffer(weights),
      );
      return tf.io.fromMemory(artifacts).load!() as Promise<tf.io.ModelArtifacts>;
    },
  };
}
