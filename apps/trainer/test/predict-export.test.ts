// `onerun predict` and `onerun export` end to end on tiny runs of the embedded Fashion-MNIST
// slice: the exported LayersModel, loaded with plain tfjs in Node and in headless Chromium, must
// give the same probabilities as `onerun predict`, which must equal @onerun/ensemble's own
// prediction from the run's store.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { Ensemble, MixedSnapshotKindsError } from '@onerun/ensemble';
import { FileSnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictRun } from '../src/commands/predict.js';
import { encodeIdx, readIdxFile } from '../src/data/idx.js';
import { embeddedDataDir } from '../src/data/locate.js';
import { onerun, onerunHere } from './helpers.js';

const METHODS = ['baseline', 'sse', 'fge', 'swa'] as const;
type Method = (typeof METHODS)[number];
/** Each method's final model, and the SWA run's SWAG model average (`--swag`). */
const FINALS = [...METHODS, 'swag'] as const;
type Final = (typeof FINALS)[number];
const EXAMPLES = 24;
const TOLERANCE = 1e-5;

let root: string;
let inputs: string;
/** The raw pixels of the examples, 0–255. */
let pixels: Uint8Array;
const runs = {} as Record<Method, string>;
const exports = {} as Record<Final, string>;
/** `onerun predict`'s probabilities per method, `EXAMPLES × 10`. */
const predicted = {} as Record<Final, number[][]>;

interface PredictionsJson {
  method: string;
  model: string;
  snapshots: string[];
  members: number;
  classes: string[];
  predictions: {
    index: number;
    predicted: string;
    probabilities: number[];
    entropy: number;
    mutualInformation?: number;
    disagreement?: number;
  }[];
}

function expectClose(actual: number[][], expected: number[][], what: string) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (const [i, row] of actual.entries()) {
    for (const [c, v] of row.entries()) {
      worst = Math.max(worst, Math.abs(v - (expected[i]?.[c] as number)));
    }
  }
  expect(worst, `${what}: largest difference`).toBeLessThanOrEqual(TOLERANCE);
}

/** Serves `routes` (URL prefix → folder or file) on 127.0.0.1; nothing else. */
async function serve(routes: Record<string, string>): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.json': 'application/json',
    '.bin': 'application/octet-stream',
  };
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    for (const [prefix, target] of Object.entries(routes)) {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
      const rest = normalize(path.slice(prefix.length));
      const file = rest === '.' || rest === sep ? target : join(target, rest);
      if (!file.startsWith(target)) break;
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
        return;
      } catch {
        break;
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-predict-'));
  const data = embeddedDataDir();
  const test = await readIdxFile(join(data, 't10k-images-idx3-ubyte.gz'));
  pixels = test.data.slice(0, EXAMPLES * 28 * 28);
  inputs = join(root, 'new-images.idx');
  await writeFile(inputs, encodeIdx([EXAMPLES, 28, 28], pixels));
  const common = ['--data-dir', data, '--train-limit', '256', '--test-limit', '64'];
  const trained = await Promise.all(
    METHODS.map((method) => {
      runs[method] = join(root, method);
      return onerun([
        'train',
        '--method',
        method,
        '--epochs',
        '4',
        '--cycles',
        '2',
        '--batch-size',
        '64',
        ...common,
        '--backend',
        'cpu',
        '--quiet',
        '--out',
        runs[method],
        ...(method === 'swa' ? ['--swag-rank', '2', '--swag-samples', '3'] : []),
      ]);
    }),
  );
  for (const r of trained) expect(r.stderr).toBe('');
  await Promise.all(
    FINALS.map(async (method) => {
      const out = join(root, `${method}-predictions.json`);
      exports[method] = join(root, 'exports', method);
      const [run, swag] = method === 'swag' ? [runs.swa, ['--swag']] : [runs[method], []];
      const [p, e] = await Promise.all([
        onerun(['predict', run, ...swag, '--data', inputs, '--out', out, '--backend', 'cpu']),
        onerun(['export', run, ...swag, '--to', exports[method], '--backend', 'cpu']),
      ]);
      expect(p.code, p.stderr).toBe(0);
      expect(e.code, e.stderr).toBe(0);
      const json = JSON.parse(await readFile(out, 'utf8')) as PredictionsJson;
      predicted[method] = json.predictions.map((r) => r.probabilities);
    }),
  );
}, 600_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('onerun predict', () => {
  it("gives each method's final prediction: the ensemble mean (@onerun/ensemble), SWA's average alone", async () => {
    const x = tf.tidy(() => tf.tensor(pixels, [EXAMPLES, 28, 28, 1], 'float32').div(255));
    for (const method of METHODS) {
      const json = JSON.parse(
        await readFile(join(root, `${method}-predictions.json`), 'utf8'),
      ) as PredictionsJson;
      const store = new FileSnapshotStore(join(runs[method], 'snapshots'));
      const kind = method === 'swa' ? 'swa' : 'member';
      const ensemble = await Ensemble.fromStore(store, { kind });
      expect(json.snapshots).toEqual(ensemble.ids);
      expect(json.members).toBe(method === 'sse' || method === 'fge' ? 2 : 1);
      const probs = await ensemble.predict(x);
      expectClose(predicted[method], (await probs.array()) as number[][], `${method} vs Ensemble`);
      probs.dispose();
      ensemble.dispose();
      expect(json.classes[0]).toBe('T-shirt/top');
      for (const p of json.predictions) {
        const row = p.probabilities;
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        const best = row.indexOf(Math.max(...row));
        expect(p.predicted).toBe(json.classes[best]);
        const h = -row.reduce((s, v) => (v > 0 ? s + v * Math.log(v) : s), 0);
        expect(p.entropy).toBeCloseTo(h, 6);
        if (json.members > 1) {
          expect(p.mutualInformation).toBeGreaterThanOrEqual(0);
          expect(p.mutualInformation).toBeLessThanOrEqual(p.entropy + 1e-12);
          expect([0, 1]).toContain(p.disagreement); // two members: agree or not
        } else {
          expect(p.mutualInformation).toBeUndefined();
        }
      }
    }
    x.dispose();
  });

  it('computes mutual information and disagreement from the members by hand', async () => {
    const json = JSON.parse(
      await readFile(join(root, 'sse-predictions.json'), 'utf8'),
    ) as PredictionsJson;
    const store = new FileSnapshotStore(join(runs.sse, 'snapshots'));
    const x = tf.tidy(() => tf.tensor(pixels, [EXAMPLES, 28, 28, 1], 'float32').div(255));
    const members: number[][][] = [];
    for (const id of json.snapshots) {
      const model = await store.load(id);
      const p = model.predict(x) as tf.Tensor;
      members.push((await p.array()) as number[][]);
      tf.dispose([p]);
      model.dispose();
    }
    x.dispose();
    const h = (row: number[]) => -row.reduce((s, v) => (v > 0 ? s + v * Math.log(v) : s), 0);
    const argmax = (row: number[]) => row.indexOf(Math.max(...row));
    json.predictions.forEach((p, i) => {
      const [a, b] = [members[0]?.[i] as number[], members[1]?.[i] as number[]];
      expect(p.mutualInformation).toBeCloseTo(Math.max(0, p.entropy - (h(a) + h(b)) / 2), 5);
      expect(p.disagreement).toBe(argmax(a) === argmax(b) ? 0 : 1);
    });
  });

  it("--swag gives SWAG's model average: the NLL onerun eval reports for it, from 3 branches", async () => {
    const test = await readIdxFile(join(embeddedDataDir(), 't10k-images-idx3-ubyte.gz'));
    const labels = await readIdxFile(join(embeddedDataDir(), 't10k-labels-idx1-ubyte.gz'));
    const testInputs = join(root, 'test-split.idx');
    await writeFile(testInputs, encodeIdx([64, 28, 28], test.data.subarray(0, 64 * 784)));
    const out = join(root, 'swag-test.json');
    const p = await onerun(['predict', runs.swa, '--swag', '--data', testInputs, '--out', out]);
    expect(p.code, p.stderr).toBe(0);
    const json = JSON.parse(await readFile(out, 'utf8')) as PredictionsJson;
    expect(json.members).toBe(3);
    expect(json.model).toBe('SWAG model average of 3 draws (batch norm recomputed for each)');
    const nll =
      json.predictions.reduce(
        (s, e, i) =>
          s - Math.log(Math.max(e.probabilities[labels.data[i] as number] as number, 1e-12)),
        0,
      ) / 64;
    const evaluated = await onerun(['eval', runs.swa, '--json', '--backend', 'cpu']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const swag = JSON.parse(evaluated.stdout).metrics.swag;
    expect(swag.samples).toBe(3);
    expect(nll).toBeCloseTo(swag.metrics.nll, 5);
    const topology = JSON.parse(await readFile(join(exports.swag, 'model.json'), 'utf8'));
    const names = topology.modelTopology.config.layers.map((l: { name: string }) => l.name);
    expect(names.filter((n: string) => n.endsWith('_head'))).toEqual([
      'm0_head',
      'm1_head',
      'm2_head',
    ]);
  });

  it('refuses --swag for a run without SWAG', async () => {
    const r = await onerunHere([
      'predict',
      runs.sse,
      '--swag',
      '--data',
      inputs,
      '--backend',
      'cpu',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--swag: .*sse was trained with --method sse; SWAG's model average needs an SWA run trained with --swag-rank K/,
    );
  });

  it('writes the same numbers as CSV, and to stdout without --out', async () => {
    const csv = await onerun([
      'predict',
      runs.fge,
      '--data',
      inputs,
      '--backend',
      'cpu',
      '--quiet',
    ]);
    expect(csv.code, csv.stderr).toBe(0);
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toBe(
      'index,name,predicted,p_T-shirt/top,p_Trouser,p_Pullover,p_Dress,p_Coat,p_Sandal,p_Shirt,p_Sneaker,p_Bag,p_Ankle boot,entropy,mutual_information,disagreement',
    );
    expect(rows).toHaveLength(EXAMPLES);
    const fromCsv = rows.map((r) => r.split(',').slice(3, 13).map(Number));
    expectClose(fromCsv, predicted.fge, 'CSV vs JSON');
  });

  it('keeps tf.memory().numTensors flat across repeated predictions', async () => {
    await predictRun(runs.sse, { data: inputs, format: 'json' });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++)
      await predictRun(runs.sse, { data: inputs, format: 'json', batchSize: 7 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('onerun export', () => {
  it('writes one LayersModel of stock layers with unique names, classes.json and preprocessing', async () => {
    const files = (await readdir(exports.sse)).sort();
    expect(files).toEqual([
      'classes.json',
      'export.json',
      'group1-shard1of1.bin',
      'model.json',
      'preprocessing.json',
    ]);
    const model = JSON.parse(await readFile(join(exports.sse, 'model.json'), 'utf8'));
    const layers = model.modelTopology.config.layers as { name: string; class_name: string }[];
    expect(new Set(layers.map((l) => l.name)).size).toBe(layers.length);
    expect(layers[1]).toMatchObject({ name: 'preprocess', class_name: 'BatchNormalization' });
    expect(layers.at(-1)).toMatchObject({ name: 'ensemble_mean', class_name: 'Average' });
    expect(
      JSON.parse(await readFile(join(exports.sse, 'classes.json'), 'utf8')).classes,
    ).toHaveLength(10);
  });

  it('predicts what onerun predict does, loaded with plain tf.loadLayersModel in Node', async () => {
    const { server, url } = await serve({ '/exports': join(root, 'exports') });
    try {
      const x = tf.tensor(pixels, [EXAMPLES, 28, 28, 1], 'float32');
      for (const method of FINALS) {
        const model = await tf.loadLayersModel(`${url}/exports/${method}/model.json`);
        const before = tf.memory().numTensors;
        const y = model.predict(x) as tf.Tensor;
        expectClose((await y.array()) as number[][], predicted[method], `${method} export in Node`);
        y.dispose();
        expect(tf.memory().numTensors).toBe(before);
        model.dispose();
      }
      x.dispose();
    } finally {
      server.close();
    }
  });

  it('predicts what onerun predict does in headless Chromium, with tfjs from its dist bundle', async () => {
    const tfjsDist = join(
      dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json')),
      'dist',
    );
    const page = join(root, 'page');
    await mkdir(page, { recursive: true });
    await writeFile(
      join(page, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>export</title><script src="/tfjs/tf.min.js"></script>',
    );
    const { server, url } = await serve({
      '/tfjs': tfjsDist,
      '/exports': join(root, 'exports'),
      '/page': page,
    });
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`${url}/page/index.html`);
      const results = await tab.evaluate(
        async ({ methods, raw, n }) => {
          const tfb = (globalThis as unknown as { tf: typeof tf }).tf;
          await tfb.setBackend('cpu');
          const out: Record<string, number[][]> = {};
          for (const method of methods) {
            const model = await tfb.loadLayersModel(`/exports/${method}/model.json`);
            const x = tfb.tensor(raw, [n, 28, 28, 1], 'float32');
            const y = model.predict(x) as tf.Tensor;
            out[method] = (await y.array()) as number[][];
            tfb.dispose([x, y]);
            model.dispose();
          }
          return { out, backend: tfb.getBackend(), version: tfb.version.tfjs };
        },
        { methods: [...FINALS], raw: Array.from(pixels), n: EXAMPLES },
      );
      expect(results.backend).toBe('cpu');
      expect(results.version).toBe('4.22.0');
      for (const method of FINALS) {
        expectClose(results.out[method] as number[][], predicted[method], `${method} in Chromium`);
      }
    } finally {
      await browser.close();
      server.close();
    }
  });
});

/** The CLI in this process, on the cpu backend the test process already uses. */
const cli = (args: string[]) => onerunHere([...args, '--backend', 'cpu']);

describe('bad input: exit 2, a message, nothing written', () => {
  it('refuses inputs of another shape, a missing file, and an unknown output format', async () => {
    const small = join(root, 'small.idx');
    await writeFile(small, encodeIdx([2, 8, 8], new Uint8Array(128)));
    const out = join(root, 'bad.json');
    const wrong = await cli([
      'predict',
      runs.sse,
      '--data',
      small,
      '--out',
      out,
      '--backend',
      'cpu',
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /small\.idx has shape \(2, 8, 8\); the run takes examples of shape \[28, 28, 1\]/,
    );
    const missing = await cli([
      'predict',
      runs.sse,
      '--data',
      join(root, 'nope.idx'),
      '--out',
      out,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.idx cannot be read/);
    const txt = await cli(['predict', runs.sse, '--data', inputs, '--out', join(root, 'p.txt')]);
    expect(txt.code).toBe(2);
    expect(txt.stderr).toMatch(/cannot tell the format from '\.txt'/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'p.txt'))).toBe(false);
  });

  it('never replaces an existing predictions file without --force', async () => {
    const out = join(root, 'keep.csv');
    await writeFile(out, 'mine\n');
    const r = await cli(['predict', runs.sse, '--data', inputs, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keep\.csv exists; pass --force/);
    expect(await readFile(out, 'utf8')).toBe('mine\n');
  });

  it('refuses an unfinished run and a store that disagrees with progress.json', async () => {
    const unfinished = join(root, 'unfinished');
    await cp(runs.sse, unfinished, { recursive: true });
    const progressPath = join(unfinished, 'progress.json');
    const progress = JSON.parse(await readFile(progressPath, 'utf8'));
    await writeFile(progressPath, JSON.stringify({ ...progress, status: 'running' }));
    const out = join(root, 'never.csv');
    for (const command of [
      ['predict', unfinished, '--data', inputs, '--out', out],
      ['export', unfinished, '--to', join(root, 'never')],
    ]) {
      const r = await cli(command);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds an unfinished sse run \(progress\.json status 'running'\)/);
    }
    const damaged = join(root, 'damaged');
    await cp(runs.sse, damaged, { recursive: true });
    const collections = [
      ...progress.collections,
      { ...progress.collections[0], id: 'snap-000099' },
    ];
    await writeFile(join(damaged, 'progress.json'), JSON.stringify({ ...progress, collections }));
    const r = await cli(['predict', damaged, '--data', inputs, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /snapshot store disagrees with progress\.json \(missing snap-000099\)/,
    );
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('names a member snapshot whose weights are missing, for predict and export', async () => {
    const broken = join(root, 'broken');
    await cp(runs.fge, broken, { recursive: true });
    const manifest = JSON.parse(await readFile(join(broken, 'snapshots', 'manifest.json'), 'utf8'));
    const last = manifest.snapshots.at(-1).id as string;
    await rm(join(broken, 'snapshots', last, 'weights.bin'));
    const out = join(root, 'broken.csv');
    for (const command of [
      ['predict', broken, '--data', inputs, '--out', out],
      ['export', broken, '--to', join(root, 'broken-export')],
    ]) {
      const r = await cli(command);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`snapshot ${last} of the final model cannot be read`));
    }
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'broken-export'))).toBe(false);
  });

  it('export refuses a non-empty folder it did not write, and replaces its own only with --force', async () => {
    const foreign = join(root, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    const r = await cli(['export', runs.swa, '--to', foreign]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/foreign is not empty and was not written by onerun export/);
    expect(await readdir(foreign)).toEqual(['notes.txt']);
    const again = await cli(['export', runs.swa, '--to', exports.swa]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/holds an earlier export; pass --force/);
    const forced = await cli(['export', runs.swa, '--to', exports.swa, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await readdir(root)).filter((n) => n.includes('.onerun-'))).toEqual([]);
    expect((await readdir(join(root, 'exports'))).filter((n) => n.includes('.onerun-'))).toEqual(
      [],
    );
  });
});

describe('loading a run folder in your own code', () => {
  it("an SWA folder's store is never a silent 3-model mix; kind: 'swa' is its final model", async () => {
    const store = new FileSnapshotStore(join(runs.swa, 'snapshots'));
    await expect(Ensemble.fromStore(store)).rejects.toThrow(MixedSnapshotKindsError);
    await expect(Ensemble.fromStore(store)).rejects.toThrow(/sgd ×1, swa-stale-bn ×1, swa ×1/);
    const swa = await Ensemble.fromStore(store, { kind: 'swa' });
    expect(swa.size).toBe(1);
    swa.dispose();
    const fge = new FileSnapshotStore(join(runs.fge, 'snapshots'));
    await expect(Ensemble.fromStore(fge)).rejects.toThrow(/start ×1, member ×2/);
  });
});
