import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotNotFoundError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import { MemorySnapshotStore } from './memory-store.js';
import type { SnapshotEntry, SnapshotStore } from './store.js';
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
afterEach(async () => cleanup());

const withoutTime = (entries: SnapshotEntry[]) => entries.map(({ createdAt: _, ...rest }) => rest);

describe('MemorySnapshotStore parity with FileSnapshotStore', () => {
  it('gives the same entries, checksums, retention and errors for the same calls', async () => {
    const memory = new MemorySnapshotStore({ retain: { last: 3 } });
    // MemorySnapshotStore records SHA-256 (WebCrypto, also in browsers).
    const file = await FileSnapshotStore.open(dir, { retain: { last: 3 }, checksum: 'sha256' });
    const model = tinyModel();
    const x = seededInputs(3, 4, 5);
    const logs: unknown[][] = [[], []];
    for (const [i, store] of [memory, file].entries()) {
      for (let step = 0; step < 5; step++) {
        randomizeWeights(model, 100 + step);
        await store.save(model, {
          step,
          metrics: { loss: 1 / (step + 1) },
          tags: { k: `${step}` },
        });
      }
      await store.delete('snap-000004');
      await expect(store.delete('snap-000004')).rejects.toThrow(SnapshotNotFoundError);
      await expect(store.load('snap-000001')).rejects.toThrow(SnapshotNotFoundError);
      const loaded = await store.load('snap-000005');
      logs[i]!.push(await predictArray(loaded, x));
      loaded.dispose();
    }
    expect(withoutTime(await memory.list())).toEqual(withoutTime(await file.list()));
    expect((await memory.list()).map((e) => e.id)).toEqual(['snap-000003', 'snap-000005']);
    expect(logs[0]).toEqual(logs[1]);
    disposeAll(model, x);
  });

  it('hands out copies: changing a listed entry changes nothing in the store', async () => {
    const memory = new MemorySnapshotStore();
    const model = tinyModel();
    const saved = await memory.save(model, { step: 1, metrics: { loss: 2 } });
    saved.metrics!.loss = 9;
    (await memory.list())[0]!.metrics!.loss = 9;
    expect((await memory.list())[0]!.metrics).toEqual({ loss: 2 });
    model.dispose();
  });
});

describe('MemorySnapshotStore keeps its bytes private', () => {
  it('a model loaded from it can be changed in place without touching the snapshot', async () => {
    const memory = new MemorySnapshotStore();
    const model = tinyModel();
    randomizeWeights(model, 4);
    const expected = await weightArrays(model);
    const saved = await memory.save(model, { step: 0 });
    const probe = tinyModel();
    await memory.loadWeightsInto(saved.id, probe);
    // On the cpu backend data() hands out the tensor's own storage: scribble over it.
    for (const v of probe.weights) (v.read().dataSync() as Float32Array).fill(7);
    await memory.loadWeightsInto(saved.id, probe);
    expect(await weightArrays(probe)).toEqual(expected);
    disposeAll(model, probe);
  });
});

describe.each([
  ['MemorySnapshotStore', false],
  ['FileSnapshotStore', true],
] as const)('%s snapshots the weights as they were when save was called', (_name, onDisk) => {
  it('even if the model changes before the save finishes', async () => {
    const store: SnapshotStore = onDisk ? new FileSnapshotStore(dir) : new MemorySnapshotStore();
    const model = tinyModel();
    randomizeWeights(model, 1);
    const expected = await weightArrays(model);
    const pending = store.save(model, { step: 0 });
    randomizeWeights(model, 2); // as a training step that is not awaited would
    const entry = await pending;
    const probe = tinyModel();
    await store.loadWeightsInto(entry.id, probe);
    expect(await weightArrays(probe)).toEqual(expected);
    disposeAll(model, probe);
  });
});
