import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../src/data/images.js';
import { encodeNpy } from '../src/data/npy.js';
import { onerun, onerunHere } from './helpers.js';
import { writeCsv, writeNpz, writePngFolder } from './own-data-fixtures.js';

const CPU = ['--backend', 'cpu', '--quiet'];
let root: string;

/** A model module: input → dense 16 → dense softmax (or no softmax with `logits`). */
function moduleSource(options: { logits?: boolean; inputShape?: string } = {}): string {
  return `export function createModel({ tf, inputShape, classes, seed }) {
  const init = tf.initializers.glorotUniform({ seed });
  return tf.sequential({ layers: [
    tf.layers.inputLayer({ inputShape: ${options.inputShape ?? 'inputShape'} }),
    tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init }),
    tf.layers.dense({ units: classes, ${options.logits ? '' : "activation: 'softmax', "}kernelInitializer: init }),
  ] });
}
`;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-own-'));
  await writePngFolder(join(root, 'png'), { perClass: 12 });
  await writeCsv(join(root, 'iris.csv'), 90);
  await writeNpz(join(root, 'fm.npz'), 10);
  await writeFile(join(root, 'small.mjs'), moduleSource());
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function json(path: string) {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('your own data and model, end to end', () => {
  it('trains SWA (batch norm recomputed over the images) on a PNG class folder with the built-in mlp', async () => {
    const out = join(root, 'runs', 'png-cnn');
    const r = await onerunHere([
      'train',
      ...CPU,
      '--data',
      join(root, 'png'),
      '--model',
      'mlp',
      '--method',
      'swa',
      '--epochs',
      '3',
      '--batch-size',
      '8',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.config).toMatchObject({ model: 'mlp', data: join(root, 'png'), method: 'swa' });
    expect(await json(join(out, 'classes.json'))).toEqual({
      classes: ['sneaker', 'trouser', 'tshirt'],
    });
    expect(await json(join(out, 'preprocessing.json'))).toEqual({
      format: 'onerun.preprocessing/1',
      kind: 'image',
      inputShape: [28, 28, 1],
      rawDtype: 'uint8',
      mean: [0],
      std: [255],
      imageSize: null,
    });
    const config = await json(join(out, 'config.json'));
    expect(config.modelSource).toEqual({ kind: 'builtin', name: 'mlp' });
    expect(config.dataSource).toMatch(/^images:.*png \(test split 0.2\)$/);
    expect([config.trainSize, config.testSize]).toEqual([30, 6]);
    expect(result.metrics.result.accuracy).toBeGreaterThan(0.5);
  });

  it('trains SSE on a CSV with a model module, and on an .npz; compare takes them too', async () => {
    const csvRun = join(root, 'runs', 'csv');
    const r = await onerunHere([
      'train',
      ...CPU,
      '--data',
      join(root, 'iris.csv'),
      '--model',
      join(root, 'small.mjs'),
      '--method',
      'sse',
      '--epochs',
      '4',
      '--cycles',
      '2',
      '--batch-size',
      '16',
      '--lr',
      '0.1',
      '--out',
      csvRun,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).metrics.result.accuracy).toBeGreaterThan(0.6);
    expect(await json(join(csvRun, 'classes.json'))).toEqual({
      classes: ['setosa', 'versicolor', 'virginica'],
    });
    const prep = await json(join(csvRun, 'preprocessing.json'));
    expect(prep).toMatchObject({
      kind: 'features',
      inputShape: [4],
      rawDtype: 'float32',
      imageSize: null,
    });
    expect(prep.mean).toHaveLength(4);
    const config = await json(join(csvRun, 'config.json'));
    expect(config.modelSource).toMatchObject({ kind: 'module', name: join(root, 'small.mjs') });
    expect(config.modelSource.sha256).toMatch(/^[0-9a-f]{64}$/);

    const npzRun = join(root, 'runs', 'npz');
    const n = await onerunHere([
      'train',
      ...CPU,
      '--data',
      join(root, 'fm.npz'),
      '--model',
      'mlp',
      '--method',
      'baseline',
      '--epochs',
      '2',
      '--batch-size',
      '8',
      '--out',
      npzRun,
    ]);
    expect(n.code, n.stderr).toBe(0);
    expect(await json(join(npzRun, 'classes.json'))).toEqual({ classes: ['0', '1', '7'] });

    const compared = join(root, 'runs', 'compare');
    const c = await onerunHere([
      'compare',
      ...CPU,
      '--data',
      join(root, 'iris.csv'),
      '--model',
      join(root, 'small.mjs'),
      '--methods',
      'baseline,sse',
      '--budget',
      '2',
      '--cycles',
      '2',
      '--batch-size',
      '16',
      '--out',
      compared,
      '--json',
    ]);
    expect(c.code, c.stderr).toBe(0);
    expect(await json(join(compared, 'sse', 'classes.json'))).toEqual({
      classes: ['setosa', 'versicolor', 'virginica'],
    });
  });

  it('refuses to resume a run whose model file changed since', async () => {
    const model = join(root, 'changing.mjs');
    await writeFile(model, moduleSource());
    const out = join(root, 'runs', 'changing');
    const args = ['train', ...CPU, '--data', join(root, 'iris.csv'), '--model', model];
    const first = await onerunHere([
      ...args,
      '--method',
      'baseline',
      '--epochs',
      '2',
      '--out',
      out,
    ]);
    expect(first.code, first.stderr).toBe(0);
    // As if the run had been stopped before it finished, then the module edited.
    const progressPath = join(out, 'progress.json');
    const progress = await json(progressPath);
    await writeFile(progressPath, JSON.stringify({ ...progress, status: 'running' }));
    await writeFile(model, moduleSource().replace('units: 16', 'units: 17'));
    // A new process, as a real resume is (this one has the module cached).
    const again = await onerun([...args, '--method', 'baseline', '--epochs', '2', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /was trained with .*changing.mjs of SHA-256 [0-9a-f]{12}…, but that file now hashes to/,
    );
  });

  it('fine-tunes a saved model.json: its weights are the starting point', async () => {
    // A model.json written by tfjs: the first SSE snapshot of the CSV run.
    const snapshot = join(root, 'runs', 'csv', 'snapshots');
    const manifest = await json(join(snapshot, 'manifest.json'));
    const first = manifest.snapshots[0].id as string;
    const modelJson = join(snapshot, first, 'model.json');
    const out = join(root, 'runs', 'finetune');
    const r = await onerunHere([
      'train',
      ...CPU,
      '--data',
      join(root, 'iris.csv'),
      '--model',
      modelJson,
      '--method',
      'baseline',
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--lr',
      '0.001',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((await json(join(out, 'config.json'))).modelSource).toMatchObject({
      kind: 'layers-json',
      pretrained: true,
    });
    // One epoch at a tiny rate from trained weights: already far above chance (1/3).
    expect(JSON.parse(r.stdout).metrics.result.accuracy).toBeGreaterThan(0.6);
  });
});

describe('bad input: exit 2, one line naming the file, nothing written', () => {
  async function refused(args: string[], pattern: RegExp, cli = false) {
    const out = join(root, 'refused', String(Math.random()).slice(2));
    const r = cli
      ? await onerun([
          'train',
          ...CPU,
          '--method',
          'baseline',
          '--epochs',
          '1',
          '--out',
          out,
          ...args,
        ])
      : await onerunHere([
          'train',
          ...CPU,
          '--method',
          'baseline',
          '--epochs',
          '1',
          '--out',
          out,
          ...args,
        ]);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^onerun: error: /);
    expect(lines.at(-1)).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  }

  it('refuses bad data', async () => {
    const bad = join(root, 'bad');
    await mkdir(bad, { recursive: true });
    const unreadable = join(bad, 'unreadable');
    await writePngFolder(unreadable, { perClass: 2 });
    await writeFile(join(unreadable, 'tshirt', 'broken.png'), 'no png');
    await refused(
      ['--data', unreadable],
      /tshirt\/broken.png is not a readable image .*expected a PNG or JPEG/,
    );

    const mixed = join(bad, 'mixed');
    await writePngFolder(mixed, { perClass: 2 });
    await writeFile(
      join(mixed, 'trouser', 'wide.png'),
      encodePng(new Uint8Array(28 * 40), 28, 40, 1),
    );
    await refused(
      ['--data', mixed],
      /wide.png is 28×40 but .* is 28×28; images of mixed sizes need --image-size HxW/,
    );

    const empty = join(bad, 'empty');
    await writePngFolder(empty, { perClass: 2 });
    await mkdir(join(empty, 'zebra'));
    await refused(['--data', empty], /class folder .*empty\/zebra holds no PNG or JPEG images/);

    const classes = join(bad, 'classes');
    await writePngFolder(classes, { perClass: 8, splits: true });
    await rm(join(classes, 'test', 'trouser'), { recursive: true });
    await refused(
      ['--data', classes],
      /train and test have different classes: .*test lacks trouser/,
    );

    const cell = join(bad, 'cell.csv');
    await writeFile(cell, 'a,b,label\n1,2,x\n3,n/a,y\n');
    await refused(['--data', cell], /cell.csv line 3, column 'b' \(2\): 'n\/a' is not a number/);
    await refused(
      ['--data', join(root, 'iris.csv'), '--label-column', 'kind'],
      /iris.csv has no label column 'kind' \(columns a, b, c, const, species/,
    );

    const npz = join(bad, 'arrays.npz');
    await writeFile(npz, zipSync({ 'images.npy': encodeNpy([2, 2], Float32Array.of(1, 2, 3, 4)) }));
    await refused(['--data', npz], /arrays.npz holds arrays images; expected 'x' and 'y'/);
    await refused(
      ['--data', join(bad, 'nothing-here')],
      /--data '.*nothing-here' is neither a data set .* nor an existing file or folder/,
    );
  });

  it('refuses a model that does not fit the data', async () => {
    const fixed = join(root, 'fixed-input.mjs');
    await writeFile(fixed, moduleSource({ inputShape: '[10]' }));
    await refused(
      ['--data', join(root, 'iris.csv'), '--model', fixed],
      /takes inputs of shape \[10\] but the data's examples are \[4\]/,
    );
    const logits = join(root, 'logits.mjs');
    await writeFile(logits, moduleSource({ logits: true }));
    await refused(
      ['--data', join(root, 'iris.csv'), '--model', logits],
      /does not end in a softmax.*If it outputs logits, give the last layer activation: 'softmax'/,
    );
    // A 3-class model.json on 4-class data.
    const modelJson = join(root, 'runs', 'csv', 'snapshots');
    const id = (await json(join(modelJson, 'manifest.json'))).snapshots[0].id as string;
    await refused(
      ['--data', 'synthetic', '--model', join(modelJson, id, 'model.json')],
      /takes inputs of shape \[4\] but the data's examples are \[8, 8, 1\]/,
    );
    await refused(['--data', 'synthetic', '--model', 'preresnet21'], /depth is 6n \+ 2 .*got 21/);
  });

  it('detects a module that built its layers with another copy of tfjs', async () => {
    // tfjs-layers' self-contained ES bundle: layers of another instance than the app's.
    const app = createRequire(import.meta.url);
    const bundle = join(dirname(app.resolve('@tensorflow/tfjs-layers')), 'tf-layers.fesm.js');
    const own = join(root, 'own-tf.mjs');
    await writeFile(
      own,
      `import * as ownLayers from ${JSON.stringify(pathToFileURL(bundle).href)};
export function createModel({ inputShape, classes }) {
  return ownLayers.sequential({ layers: [
    ownLayers.layers.flatten({ inputShape }),
    ownLayers.layers.dense({ units: classes, activation: 'softmax' }),
  ] });
}
`,
    );
    await refused(
      ['--data', 'synthetic', '--model', own],
      /returned a model built with another copy of tfjs than the app's; build every layer with the tf handed to createModel/,
      true,
    );
  });
});
