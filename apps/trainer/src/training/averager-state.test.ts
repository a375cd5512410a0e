import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Swag, WeightAverager } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../models/registry.js';
import { loadAverager, saveAverager } from './averager-state.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-averager-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A small model whose weights are moved to a new seeded point before each update. */
async function iterates(n: number, update: (model: tf.LayersModel) => Promise<void>) {
  const model = await buildModel('mlp', { inputShape: [4, 4, 1], classes: 3, seed: 1 });
  for (let i = 0; i < n; i++) {
    model.setWeights(
      model.getWeights().map((w, k) => tf.randomNormal(w.shape, 0, 1, 'float32', 10 * i + k)),
    );
    await update(model);
  }
  return model;
}

const values = async (ts: tf.Tensor[]) =>
  Promise.all(ts.map(async (t) => Array.from(await t.data())));

describe('averager state files', () => {
  it('round-trips a SWAG exactly: moments, deviation columns, and the same seeded draws', async () => {
    const swag = new Swag({ rank: 3 });
    const model = await iterates(5, (m) => swag.update(m));
    const before = tf.memory().numTensors;
    await saveAverager(dir, 'swag', swag);
    expect(tf.memory().numTensors).toBe(before);
    const loaded = await loadAverager(dir, 'swag.json');
    expect(loaded).toBeInstanceOf(Swag);
    const back = loaded as Swag;
    expect([back.count, back.columns, back.rank]).toEqual([5, 3, 3]);
    const pairs = [
      [back.mean(), swag.mean()],
      [back.variance(), swag.variance()],
      [back.sample({ seed: 7 }), swag.sample({ seed: 7 })],
    ];
    for (const [x, y] of pairs) {
      expect(await values(x as tf.Tensor[])).toEqual(await values(y as tf.Tensor[]));
      tf.dispose([...(x as tf.Tensor[]), ...(y as tf.Tensor[])]);
    }
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
    swag.dispose();
    model.dispose();
  });

  it('round-trips a SWA average (and reads files written before SWAG existed)', async () => {
    const swa = new WeightAverager({ mode: 'swa' });
    const model = await iterates(3, (m) => swa.update(m));
    await saveAverager(dir, 'averager-12', swa);
    // A file from before SWAG: no `kind` field.
    const json = join(dir, 'averager-12.json');
    const { kind: _kind, ...old } = JSON.parse(await readFile(json, 'utf8'));
    await writeFile(json, JSON.stringify(old));
    const back = (await loadAverager(dir, 'averager-12.json')) as WeightAverager;
    expect(back).toBeInstanceOf(WeightAverager);
    expect(back.count).toBe(3);
    const [a, b] = [back.getState(), swa.getState()];
    expect(await values(a.tensors)).toEqual(await values(b.tensors));
    tf.dispose([...a.tensors, ...b.tensors]);
    back.dispose();
    swa.dispose();
    model.dispose();
  });
});
