import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightMismatchError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCorruptError, SnapshotNotFoundError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import { MemorySnapshotStore } from './memory-store.js';
import type { SnapshotEntry } from './store.js';
import { randomizeWeights, tempDir, tinyModel, weightArrays } from './test-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: FileSnapshotStore;
let entry: SnapshotEntry;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await FileSnapshotStore.open(dir);
  const model = tinyModel();
  randomizeWeights(model, 3);
  entry = await store.save(model, { step: 5 }, { includeOptimizer: false });
  model.dispose();
});
afterEach(async () => cleanup());

async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(path, bytes);
}

/** Both load paths fail with SnapshotCorruptError naming the snapshot and the file. */
async function expectCorrupt(file: string, reason: RegExp): Promise<void> {
  const target = tinyModel();
  randomizeWeights(target, 11);
  const before = await weightArrays(target);
  for (const attempt of [
    () => store.load(entry.id),
    () => store.loadWeightsInto(entry.id, target),
  ]) {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    const corrupt = error as SnapshotCorruptError;
    expect(corrupt.snapshotId).toBe(entry.id);
    expect(corrupt.file).toBe(file);
    expect(corrupt.message).toContain(`'${entry.id}'`);
    expect(corrupt.message).toContain(file);
    expect(corrupt.reason).toMatch(reason);
  }
  // Nothing was written into the model.
  expect(await weightArrays(target)).toEqual(before);
  target.dispose();
}

describe('corruption is detected on load', () => {
  it('a flipped byte in weights.bin', async () => {
    const file = join(dir, entry.id, 'weights.bin');
    await flipByte(file, 17);
    await expectCorrupt(file, /checksum mismatch/);
  });

  it('a flipped byte in model.json', async () => {
    const file = join(dir, entry.id, 'model.json');
    await flipByte(file, 40);
    await expectCorrupt(file, /checksum mismatch/);
  });

  it('a truncated weights.bin', async () => {
    const file = join(dir, entry.id, 'weights.bin');
    await truncate(file, entry.byteSize - 5);
    await expectCorrupt(file, new RegExp(`truncated: ${entry.byteSize - 5} of ${entry.byteSize}`));
  });

  it('a missing weights.bin, and a missing model.json', async () => {
    await rm(join(dir, entry.id, 'weights.bin'));
    await expectCorrupt(join(dir, entry.id, 'weights.bin'), /missing/);
    await rm(join(dir, entry.id, 'model.json'));
    await expectCorrupt(join(dir, entry.id, 'model.json'), /missing/);
  });

  it('a manifest that points nowhere (the folder is gone)', async () => {
    await rm(join(dir, entry.id), { recursive: true });
    await expectCorrupt(join(dir, entry.id), /folder is missing/);
  });

  it('a damaged manifest names manifest.json', async () => {
    const file = join(dir, 'manifest.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"step": 5', '"step": 6'));
    const error = await store.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotCorruptError);
    expect((error as SnapshotCorruptError).file).toBe(file);
    expect((error as SnapshotCorruptError).reason).toMatch(/checksum mismatch/);
    await writeFile(file, text.slice(0, 100));
    await expect(store.list()).rejects.toThrow(/manifest\.json: not valid JSON/);
  });

  it('an unknown id is not found, not corrupt', async () => {
    await expect(store.load('snap-000009')).rejects.toThrow(SnapshotNotFoundError);
    await expect(store.delete('snap-000009')).rejects.toThrow(/No snapshot 'snap-000009'/);
  });

  it('the memory store detects changed bytes the same way', async () => {
    const memory = new MemorySnapshotStore();
    const model = tinyModel();
    const saved = await memory.save(model, { step: 1 });
    // Reach into the private copy, as a stray write into shared memory would.
    const files = (memory as unknown as { snapshots: { files: Map<string, Uint8Array> }[] })
      .snapshots[0]!.files;
    files.get('weights.bin')![3]! ^= 0x80;
    await expect(memory.load(saved.id)).rejects.toThrow(
      new RegExp(`Snapshot '${saved.id}' is corrupt: weights.bin: checksum mismatch`),
    );
    files.set('weights.bin', files.get('weights.bin')!.subarray(4));
    await expect(memory.loadWeightsInto(saved.id, model)).rejects.toThrow(/truncated/);
    model.dispose();
  });
});

describe('architecture mismatch', () => {
  it('names the first mismatched weight and both shapes, and leaves the model untouched', async () => {
    const wider = tinyModel({ hidden: 7 });
    const before = await weightArrays(wider);
    const error = await store.loadWeightsInto(entry.id, wider).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightMismatchError);
    const message = (error as Error).message;
    expect(message).toContain(`snapshot '${entry.id}' vs model`);
    expect(message).toMatch(/weight 0 \('dense_Dense\d+\/kernel'\) has shape \[4, 6\]/);
    expect(message).toMatch(/'dense_Dense\d+\/kernel' has shape \[4, 7\]/);
    expect(await weightArrays(wider)).toEqual(before);
    wider.dispose();

    const deeper = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 6 }), tf.layers.dense({ units: 3 })],
    });
    await expect(store.loadWeightsInto(entry.id, deeper)).rejects.toThrow(
      /weight 2 \('batch_normalization_BatchNormalization\d+\/gamma'\) has shape \[6\] but '.*' has shape \[6, 3\]/,
    );
    deeper.dispose();
  });
});
