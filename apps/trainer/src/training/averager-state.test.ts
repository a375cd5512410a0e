import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Swag, WeightAverager } from '@onerun/swa';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../models/registry.js';
import { AveragerStateError, loadAverager, saveAverager } from './averager-state.js';

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

  it('issue 28 defect 10: a SWA state file resumes bit for bit at a count that is not a power of two', async () => {
    const straight = new WeightAverager({ mode: 'swa' });
    const cut = new WeightAverager({ mode: 'swa' });
    const model = await iterates(3, async (m) => {
      await straight.update(m);
      await cut.update(m);
    });
    await saveAverager(dir, 'averager-3', cut);
    cut.dispose();
    const back = (await loadAverager(dir, 'averager-3.json')) as WeightAverager;
    expect(back.count).toBe(3);
    for (let i = 0; i < 2; i++) {
      model.setWeights(
        model.getWeights().map((w, k) => tf.randomNormal(w.shape, 0, 1, 'float32', 100 + k + i)),
      );
      await straight.update(model);
      await back.update(model);
    }
    const [a, b] = [straight.average(), back.average()];
    expect(await values(b)).toEqual(await values(a));
    tf.dispose([...a, ...b]);
    back.dispose();
    straight.dispose();
    model.dispose();
  });

  it('issue 28 defect 4: an averager state with one flipped byte is refused, naming the file', async () => {
    const swa = new WeightAverager({ mode: 'swa' });
    const model = await iterates(2, (m) => swa.update(m));
    await saveAverager(dir, 'averager-flip', swa);
    const bin = join(dir, 'averager-flip.bin');
    const bytes = await readFile(bin);
    bytes[17] = (bytes[17] as number) ^ 0x01;
    await writeFile(bin, bytes);
    const error = await loadAverager(dir, 'averager-flip.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AveragerStateError);
    expect((error as Error).message).toContain(`${bin}: checksum mismatch`);
    await rm(bin);
    await expect(loadAverager(dir, 'averager-flip.json')).rejects.toThrow(AveragerStateError);
    swa.dispose();
    model.dispose();
  });

  it('reads SWA files written before the sum and the checksum (the mean, no kind)', async () => {
    const swa = new WeightAverager({ mode: 'swa' });
    const model = await iterates(3, (m) => swa.update(m));
    await saveAverager(dir, 'averager-12', swa);
    // Such a file: the mean in the .bin, no `kind`, `stores` or `sha256`.
    const json = join(dir, 'averager-12.json');
    const {
      kind: _kind,
      stores: _stores,
      sha256: _sha,
      ...old
    } = JSON.parse(await readFile(json, 'utf8'));
    await writeFile(json, JSON.stringify(old));
    const mean = swa.average();
    const { data } = await tf.io.encodeWeights(
      mean.map((tensor, i) => ({ name: `w${i}`, tensor })),
    );
    await writeFile(join(dir, 'averager-12.bin'), new Uint8Array(data));
    const back = (await loadAverager(dir, 'averager-12.json')) as WeightAverager;
    expect(back).toBeInstanceOf(WeightAverager);
    expect(back.count).toBe(3);
    const restored = back.average();
    const [got, want] = [await values(restored), await values(mean)];
    got.forEach((row, i) => {
      row.forEach((v, j) => {
        expect(Math.abs(v - (want[i]?.[j] as number))).toBeLessThan(1e-6);
      });
    });
    tf.dispose([...mean, ...restored]);
    back.dispose();
    swa.dispose();
    model.dispose();
  });
});
