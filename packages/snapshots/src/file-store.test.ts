import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCorruptError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import {
  disposeAll,
  predictArray,
  randomizeWeights,
  seededInputs,
  tempDir,
  tinyModel,
  weightArrays,
} from './test-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

describe('FileSnapshotStore round trip', () => {
  it('loads a model that predicts exactly like the saved one, also from a reopened store', async () => {
    const model = tinyModel();
    randomizeWeights(model, 1);
    const x = seededInputs(5, 4, 2);
    const expected = await predictArray(model, x);

    const store = await FileSnapshotStore.open(join(dir, 'store'));
    const entry = await store.save(model, {
      step: 41,
      epoch: 2,
      learningRate: 0.05,
      metrics: { loss: 0.25 },
      tags: { method: 'sse' },
    });
    expect(entry).toMatchObject({
      id: 'snap-000001',
      step: 41,
      epoch: 2,
      learningRate: 0.05,
      metrics: { loss: 0.25 },
      tags: { method: 'sse' },
      hasOptimizer: false,
    });
    // 4·6 + 6 + 4·6 (BN gamma, beta, moving mean, moving variance) + 6·3 + 3 floats.
    expect(entry.byteSize).toBe((24 + 6 + 24 + 18 + 3) * 4);
    expect(entry.checksum).toMatch(/^crc32:[0-9a-f]{8}$/);

    const loaded = await store.load(entry.id);
    expect(await predictArray(loaded, x)).toEqual(expected);
    loaded.dispose();

    const reopened = await FileSnapshotStore.open(join(dir, 'store'), { readOnly: true });
    expect(await reopened.list()).toEqual([entry]);
    const again = await reopened.load(entry.id);
    expect(await predictArray(again, x)).toEqual(expected);
    again.dispose();

    // Into another instance of the architecture (other layer names): weights match exactly.
    const other = tinyModel();
    randomizeWeights(other, 99);
    await reopened.loadWeightsInto(entry.id, other);
    expect(await weightArrays(other)).toEqual(await weightArrays(model));
    expect(await predictArray(other, x)).toEqual(expected);
    other.dispose();
    model.dispose();
    x.dispose();
  });

  it('writes the documented layout and a manifest with every field', async () => {
    const model = tinyModel();
    const store = new FileSnapshotStore(dir);
    const a = await store.save(model, { step: 3 });
    const b = await store.save(model, { step: 7, metrics: { acc: 0.5 } });
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', a.id, b.id].sort());
    expect((await readdir(join(dir, a.id))).sort()).toEqual([
      'model.json',
      'snapshot.json',
      'weights.bin',
    ]);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'onerun-snapshots', version: 1, generation: 3 });
    expect(manifest.snapshots).toEqual([a, b]);
    for (const e of manifest.snapshots) {
      for (const key of ['id', 'step', 'createdAt', 'byteSize', 'checksum', 'files']) {
        expect(e).toHaveProperty(key);
      }
    }
    const modelJson = JSON.parse(await readFile(join(dir, a.id, 'model.json'), 'utf8'));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.modelTopology.class_name).toBe('Sequential');
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    model.dispose();
  });

  it('keeps the tensor count flat over many saves and loads', async () => {
    const model = tinyModel();
    const store = await FileSnapshotStore.open(dir, { retain: { last: 2 } });
    const target = tinyModel();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) {
      const entry = await store.save(model, { step: i });
      await store.loadWeightsInto(entry.id, target);
      (await store.load(entry.id)).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    target.dispose();
  });
});

/** CRC-32 (IEEE, reflected, polynomial 0xEDB88320), bit by bit: slow and obviously right. */
function referenceCrc32(bytes: Uint8Array): string {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return `crc32:${((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0')}`;
}

describe('FileSnapshotStore checksums', () => {
  it('records CRC-32 by default and SHA-256 on request, each matching the file on disk', async () => {
    expect(referenceCrc32(new TextEncoder().encode('123456789'))).toBe('crc32:cbf43926');
    const model = tinyModel();
    randomizeWeights(model, 4);
    for (const [options, expected] of [
      [{}, (b: Uint8Array) => referenceCrc32(b)],
      [
        { checksum: 'sha256' as const },
        (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`,
      ],
    ] as const) {
      const store = await FileSnapshotStore.open(
        join(dir, `s-${Object.keys(options).length}`),
        options,
      );
      const entry = await store.save(model, { step: 1 });
      const folder = await store.path(entry.id);
      for (const file of entry.files ?? []) {
        expect(file.checksum).toBe(expected(await readFile(join(folder, file.name))));
      }
      expect(entry.checksum).toBe(entry.files?.find((f) => f.name === 'weights.bin')?.checksum);
    }
    model.dispose();
  });

  it('verifies each snapshot with the algorithm it was recorded with', async () => {
    const model = tinyModel();
    randomizeWeights(model, 5);
    const x = seededInputs(3, 4, 6);
    const expected = await predictArray(model, x);
    const old = await (await FileSnapshotStore.open(dir, { checksum: 'sha256' })).save(model, {
      step: 1,
    });
    const store = await FileSnapshotStore.open(dir);
    const fresh = await store.save(model, { step: 2 });
    expect([old.checksum.slice(0, 7), fresh.checksum.slice(0, 6)]).toEqual(['sha256:', 'crc32:']);
    for (const entry of [old, fresh]) {
      const loaded = await store.load(entry.id);
      expect(await predictArray(loaded, x)).toEqual(expected);
      loaded.dispose();
      const path = join(await store.path(entry.id), 'weights.bin');
      const bytes = await readFile(path);
      bytes[7] = bytes[7]! ^ 0x10;
      await writeFile(path, bytes);
      await expect(store.load(entry.id)).rejects.toThrow(SnapshotCorruptError);
    }
    disposeAll(model, x);
  });

  it('rejects an unknown checksum algorithm by name', () => {
    expect(() => new FileSnapshotStore(dir, { checksum: 'md5' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new FileSnapshotStore(dir, { checksum: 'md5' as never })).toThrow(
      /options.checksum: got "md5"/,
    );
  });
});
