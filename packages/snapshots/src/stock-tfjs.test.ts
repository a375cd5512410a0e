import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSnapshotIO } from './file-io.js';
import { FileSnapshotStore } from './file-store.js';
import {
  predictArray,
  randomizeWeights,
  seededInputs,
  tempDir,
  tinyModel,
} from './test-helpers.js';

// These tests read the files with plain fs / HTTP and stock tfjs loaders, not with the store.
let dir: string;
let cleanup: () => Promise<void>;
let id: string;
let expected: Float32Array;
let x: tf.Tensor2D;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const model = tinyModel();
  randomizeWeights(model, 7);
  x = seededInputs(4, 4, 8);
  expected = await predictArray(model, x);
  const store = await FileSnapshotStore.open(dir);
  id = (await store.save(model, { step: 1 })).id;
  model.dispose();
});
afterAll(async () => {
  x.dispose();
  await cleanup();
});

async function expectSamePredictions(model: tf.LayersModel): Promise<void> {
  expect(await predictArray(model, x)).toEqual(expected);
  model.dispose();
}

describe('snapshot folders are standard tfjs artifacts', () => {
  it('load with tf.io.fromMemory from the files read by hand', async () => {
    const modelJson = JSON.parse(await readFile(join(dir, id, 'model.json'), 'utf8'));
    const bin = await readFile(join(dir, id, modelJson.weightsManifest[0].paths[0]));
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData,
      }),
    );
    await expectSamePredictions(model);
  });

  it("load with tf.loadLayersModel over HTTP (tfjs's own weightsManifest path handling)", async () => {
    const server: Server = createServer((req, res) => {
      readFile(join(dir, decodeURIComponent(req.url ?? '/')))
        .then((body) => res.end(body))
        .catch(() => {
          res.statusCode = 404;
          res.end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expectSamePredictions(
        await tf.loadLayersModel(`http://127.0.0.1:${port}/${id}/model.json`),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('load with fileSnapshotIO (folder or model.json path)', async () => {
    await expectSamePredictions(await tf.loadLayersModel(fileSnapshotIO(join(dir, id))));
    await expectSamePredictions(
      await tf.loadLayersModel(fileSnapshotIO(join(dir, id, 'model.json'))),
    );
  });

  it('fileSnapshotIO reads any tfjs model folder, e.g. one saved by model.save', async () => {
    const model = tinyModel();
    randomizeWeights(model, 7);
    const { writeFile, mkdir } = await import('node:fs/promises');
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        await mkdir(join(dir, 'plain'));
        const { weightData, weightSpecs, ...rest } = artifacts;
        await writeFile(
          join(dir, 'plain', 'model.json'),
          JSON.stringify({
            ...rest,
            weightsManifest: [{ paths: ['w.bin'], weights: weightSpecs }],
          }),
        );
        await writeFile(join(dir, 'plain', 'w.bin'), new Uint8Array(weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    await expectSamePredictions(await tf.loadLayersModel(fileSnapshotIO(join(dir, 'plain'))));
  });
});
