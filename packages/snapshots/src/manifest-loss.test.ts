import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCorruptError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import { writeManifest } from './manifest.js';
import { nodeModules } from './node.js';
import { disposeAll, randomizeWeights, tempDir, tinyModel, weightArrays } from './test-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

/** A store holding three snapshots of distinct weights (seeds 1, 2, 3 at steps 10, 20, 30). */
async function threeSnapshots(options = {}) {
  const store = await FileSnapshotStore.open(dir, options);
  const model = tinyModel();
  const weights: Float32Array[][] = [];
  for (const seed of [1, 2, 3]) {
    randomizeWeights(model, seed);
    weights.push(await weightArrays(model));
    await store.save(model, { step: seed * 10, tags: { seed: String(seed) } });
  }
  return { store, model, weights, listed: await store.list() };
}

describe('a store whose manifest.json is lost', () => {
  it('rebuilds the manifest from the folders, keeps every snapshot, never reuses an id', async () => {
    const { model, weights, listed } = await threeSnapshots();
    await rm(join(dir, 'manifest.json'));
    // A read-only store lists what the folders describe and writes nothing.
    const reader = new FileSnapshotStore(dir, { readOnly: true });
    expect(await reader.list()).toEqual(listed);
    expect(await readdir(dir)).not.toContain('manifest.json');

    const reopened = await FileSnapshotStore.open(dir);
    expect(await reopened.list()).toEqual(listed);
    const probe = tinyModel();
    for (const [i, entry] of listed.entries()) {
      await reopened.loadWeightsInto(entry.id, probe);
      expect(await weightArrays(probe)).toEqual(weights[i]);
    }
    expect((await reopened.save(model, { step: 40 })).id).toBe('snap-000004');
    disposeAll(model, probe);
  });

  it('a store already open rebuilds it at its next list or save', async () => {
    const { store, model, listed } = await threeSnapshots();
    await rm(join(dir, 'manifest.json'));
    expect(await store.list()).toEqual(listed);
    await rm(join(dir, 'manifest.json'));
    expect((await store.save(model, { step: 40 })).id).toBe('snap-000004');
    expect((await store.list()).map((e) => e.id)).toEqual([
      ...listed.map((e) => e.id),
      'snap-000004',
    ]);
    model.dispose();
  });

  it('refuses, deleting nothing, when a folder does not verify', async () => {
    const { model, listed } = await threeSnapshots();
    await rm(join(dir, 'manifest.json'));
    const weightsFile = join(dir, listed[1]!.id, 'weights.bin');
    const bytes = await readFile(weightsFile);
    bytes[3] = bytes[3]! ^ 0xff;
    await writeFile(weightsFile, bytes);
    const before = (await readdir(dir)).sort();
    await expect(FileSnapshotStore.open(dir)).rejects.toThrow(SnapshotCorruptError);
    await expect(FileSnapshotStore.open(dir)).rejects.toThrow(
      /snap-000002.*manifest\.json is missing.*checksum mismatch.*move the folder out/,
    );
    expect((await readdir(dir)).sort()).toEqual(before);
    // Moving the damaged folder out, as the message says, recovers the other two.
    await rm(join(dir, listed[1]!.id), { recursive: true });
    const store = await FileSnapshotStore.open(dir);
    expect((await store.list()).map((e) => e.id)).toEqual(['snap-000001', 'snap-000003']);
    expect((await store.save(model, { step: 40 })).id).toBe('snap-000004');
    model.dispose();
  });
});

describe('issue 28 defect 8: a read-only store without its manifest', () => {
  it('refuses a member whose snapshot.json is damaged instead of skipping it', async () => {
    const { model, listed } = await threeSnapshots();
    await rm(join(dir, 'manifest.json'));
    const sidecar = join(dir, listed[1]!.id, 'snapshot.json');
    await writeFile(sidecar, '{"id": "snap-000002", ');
    const reader = new FileSnapshotStore(dir, { readOnly: true });
    await expect(reader.list()).rejects.toThrow(SnapshotCorruptError);
    await expect(reader.list()).rejects.toThrow(/snap-000002.*manifest\.json is missing/);
    model.dispose();
  });
});

describe('a writer that crashed between its rename and its manifest write', () => {
  it('does not stop another open writer: it recovers in place and skips the id', async () => {
    const { store, model, listed } = await threeSnapshots();
    const other = await FileSnapshotStore.open(dir);
    // What the crashed writer left: a complete folder under the next id, not in the manifest.
    await cp(join(dir, listed[2]!.id), join(dir, 'snap-000004'), { recursive: true });
    await cp(join(dir, listed[2]!.id), join(dir, '.tmp-snap-000005-dead'), { recursive: true });
    expect((await store.save(model, { step: 40 })).id).toBe('snap-000006');
    expect((await other.save(model, { step: 50 })).id).toBe('snap-000007');
    expect((await readdir(dir)).filter((n) => n.startsWith('snap-')).sort()).toEqual([
      'snap-000001',
      'snap-000002',
      'snap-000003',
      'snap-000006',
      'snap-000007',
    ]);
    model.dispose();
  });
});

describe('crafted manifests', () => {
  const crafted = async (body: Record<string, unknown>) => {
    const node = await nodeModules();
    await writeManifest(node, dir, body as never);
    return new FileSnapshotStore(dir).list();
  };

  it('wrong field types give SnapshotCorruptError naming the field, never a TypeError', async () => {
    const { listed } = await threeSnapshots();
    const good = listed[0]!;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ generation: 2, nextSeq: 4, snapshots: 'x' }, /snapshots is not a list/],
      [{ generation: 'a', nextSeq: 4, snapshots: [] }, /generation "a"/],
      [{ generation: 2, nextSeq: 1e300, snapshots: [] }, /nextSeq 1e\+300/],
      [{ generation: 2, nextSeq: 4, snapshots: [{ ...good, step: '7' }] }, /step is not/],
      [{ generation: 2, nextSeq: 4, snapshots: [{ ...good, files: {} }] }, /files is not a list/],
      [
        { generation: 2, nextSeq: 4, snapshots: [{ ...good, files: [{ name: '../x' }] }] },
        /not a plain file name/,
      ],
      [{ generation: 2, nextSeq: 4, snapshots: [good, good] }, /listed twice/],
      [{ generation: 2, nextSeq: 1, snapshots: [good] }, /not below nextSeq/],
      [{ generation: 2, nextSeq: 4, snapshots: [{ ...good, tags: { a: 1 } }] }, /tags/],
    ];
    for (const [body, pattern] of cases) {
      const listing = crafted(body);
      await expect(listing).rejects.toThrow(SnapshotCorruptError);
      await expect(crafted(body)).rejects.toThrow(pattern);
    }
  });
});
