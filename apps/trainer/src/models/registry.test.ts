import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFitError, UsageError } from '../errors.js';
import { buildModel, modelSource, parseModelName } from './registry.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const image = { inputShape: [8, 8, 1], classes: 3, seed: 4 };

async function weightsOf(model: tf.LayersModel): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

async function modelFitError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFitError);
  return (error as Error).message;
}

/** Saves `model` as model.json (+ weights.bin unless `topologyOnly`) into `folder`. */
async function saveModelJson(
  model: tf.LayersModel,
  folder: string,
  topologyOnly = false,
): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json: Record<string, unknown> = {
        format: 'layers-model',
        modelTopology: artifacts.modelTopology,
      };
      if (!topologyOnly) {
        json.weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }];
        await writeFile(
          join(folder, 'weights.bin'),
          new Uint8Array(artifacts.weightData as ArrayBuffer),
        );
      }
      await writeFile(join(folder, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return join(folder, 'model.json');
}

describe('built-in models', () => {
  it('are model modules: the same seed builds the same weights, another seed others', async () => {
    for (const name of ['mlp', 'cnn', 'preresnet8']) {
      const shape = name === 'preresnet8' ? { ...image, inputShape: [8, 8, 3] } : image;
      const a = await buildModel(name, shape);
      const b = await buildModel(name, shape);
      const c = await buildModel(name, { ...shape, seed: 5 });
      expect(await weightsOf(a)).toEqual(await weightsOf(b));
      expect(await weightsOf(a)).not.toEqual(await weightsOf(c));
      for (const m of [a, b, c]) m.dispose();
    }
    expect((await modelSource('cnn')).kind).toBe('builtin');
  });

  it('preresnet20 for CIFAR has the parameter count of a pre-activation ResNet-20 counted by hand', async () => {
    const model = await buildModel('preresnet20', {
      inputShape: [32, 32, 3],
      classes: 10,
      seed: 0,
    });
    // conv0 432; stage 1: 6 convs of 2304 + 6 BN(16) of 64; stage 2: 4608 + 9216 + 512 (1×1
    // projection) + BN 64 + 128, then 4 convs of 9216 + 4 BN(32); stage 3 likewise with 64
    // filters; final BN(64) 256; dense 64·10 + 10.
    expect(model.countParams()).toBe(273_658);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length).toBe(19);
    model.dispose();
    expect(() => parseModelName('preresnet21')).toThrow(UsageError);
    expect(() => parseModelName('resnet')).toThrow(/neither a built-in model/);
  });
});

describe('--model model.json', () => {
  it('starts from the weights a saved model holds, and records the files’ hash', async () => {
    const folder = await mkdtemp(join(dir, 'saved-'));
    const original = await buildModel('mlp', image);
    const path = await saveModelJson(original, folder);
    const loaded = await buildModel(path, { ...image, seed: 99 });
    expect(await weightsOf(loaded)).toEqual(await weightsOf(original));
    const source = await modelSource(path);
    expect(source).toMatchObject({ kind: 'layers-json', name: path, pretrained: true });
    expect(source.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const m of [original, loaded]) m.dispose();
  });

  it('builds a topology without weights from the run’s seed (reproducible)', async () => {
    const folder = await mkdtemp(join(dir, 'topology-'));
    const original = await buildModel('cnn', image);
    const path = await saveModelJson(original, folder, true);
    const [a, b, c] = [
      await buildModel(path, image),
      await buildModel(path, image),
      await buildModel(path, { ...image, seed: 5 }),
    ];
    expect(await weightsOf(a)).toEqual(await weightsOf(b));
    expect(await weightsOf(a)).not.toEqual(await weightsOf(c));
    expect((await modelSource(path)).pretrained).toBeUndefined();
    for (const m of [original, a, b, c]) m.dispose();
  });

  it('refuses a file that is not a Layers model and a model that does not fit the data', async () => {
    const folder = await mkdtemp(join(dir, 'bad-'));
    const graph = join(folder, 'graph.json');
    await writeFile(graph, JSON.stringify({ format: 'graph-model', modelTopology: {} }));
    expect(await modelFitError(buildModel(graph, image))).toMatch(
      /is not a tfjs Layers model \(format graph-model/,
    );
    const path = await saveModelJson(await buildModel('mlp', image), folder);
    expect(await modelFitError(buildModel(path, { ...image, inputShape: [9, 9, 1] }))).toMatch(
      /takes inputs of shape \[8, 8, 1\] but the data's examples are \[9, 9, 1\]/,
    );
    expect(await modelFitError(buildModel(path, { ...image, classes: 4 }))).toMatch(
      /outputs shape \[3\] but the data has 4 classes/,
    );
  });
});

describe('--model module.mjs', () => {
  it('builds with the tf it hands over, and checks the output is a softmax', async () => {
    const good = join(dir, 'good.mjs');
    await writeFile(
      good,
      `export function createModel({ tf, inputShape, classes, seed }) {
        return tf.sequential({ layers: [
          tf.layers.flatten({ inputShape }),
          tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
        ] });
      }`,
    );
    const model = await buildModel(good, image);
    expect(model.outputs[0]!.shape).toEqual([null, 3]);
    model.dispose();
    expect((await modelSource(good)).sha256).toMatch(/^[0-9a-f]{64}$/);

    const logits = join(dir, 'logits.mjs');
    await writeFile(logits, (await readFile(good, 'utf8')).replace("activation: 'softmax', ", ''));
    expect(await modelFitError(buildModel(logits, image))).toMatch(
      /output layer '.*' \(Dense, activation linear\) does not end in a softmax.*activation: 'softmax'/,
    );
    const none = join(dir, 'none.mjs');
    await writeFile(none, 'export const model = 1;\n');
    expect(await modelFitError(buildModel(none, image))).toMatch(
      /exports no createModel function \(exports: model\)/,
    );
  });
});
