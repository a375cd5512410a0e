import { readdir } from 'node:fs/promises';
import { InvalidArgumentError } from '@onerun/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSnapshotStore } from './file-store.js';
import { MemorySnapshotStore } from './memory-store.js';
import { applyRetention, validateRetention } from './retention.js';
import type { SnapshotEntry, SnapshotStore } from './store.js';
import { tempDir, tinyModel } from './test-helpers.js';

function entry(id: string, loss?: number): SnapshotEntry {
  return {
    id,
    step: 0,
    createdAt: '',
    byteSize: 0,
    checksum: '',
    ...(loss === undefined ? {} : { metrics: { loss } }),
  };
}

describe('applyRetention', () => {
  const es = [entry('a', 3), entry('b', 1), entry('c', 2), entry('d', 1), entry('e', 5)];
  const ids = (list: SnapshotEntry[]) => list.map((e) => e.id);

  it("'all' keeps everything", () => {
    expect(ids(applyRetention(es, 'all').keep)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
  it('{ last: k } keeps the k newest, in order', () => {
    const { keep, drop } = applyRetention(es, { last: 2 });
    expect(ids(keep)).toEqual(['d', 'e']);
    expect(ids(drop)).toEqual(['a', 'b', 'c']);
    expect(ids(applyRetention(es, { last: 9 }).keep)).toHaveLength(5);
  });
  it('{ best: k, min } keeps the k lowest, ties to the earlier; saved order preserved', () => {
    expect(ids(applyRetention(es, { best: 2, metric: 'loss', mode: 'min' }).keep)).toEqual([
      'b',
      'd',
    ]);
    expect(ids(applyRetention(es, { best: 3, metric: 'loss', mode: 'min' }).keep)).toEqual([
      'b',
      'c',
      'd',
    ]);
  });
  it('{ best: k, max } keeps the k highest', () => {
    expect(ids(applyRetention(es, { best: 2, metric: 'loss', mode: 'max' }).keep)).toEqual([
      'a',
      'e',
    ]);
  });
  it('ranks entries without the metric last', () => {
    const mixed = [entry('x'), entry('y', 9)];
    expect(ids(applyRetention(mixed, { best: 1, metric: 'loss', mode: 'max' }).keep)).toEqual([
      'y',
    ]);
    expect(ids(applyRetention(mixed, { best: 1, metric: 'loss', mode: 'min' }).keep)).toEqual([
      'y',
    ]);
  });
  it('rejects malformed policies with InvalidArgumentError', () => {
    for (const bad of [
      { last: 0 },
      { last: 1.5 },
      { best: 2, metric: '', mode: 'min' },
      { best: 2, metric: 'loss', mode: 'up' },
      { best: 2, last: 2 },
      'some',
      null,
    ]) {
      expect(() => validateRetention(bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe.each([
  ['FileSnapshotStore', true],
  ['MemorySnapshotStore', false],
] as const)('%s retention after each save', (_name, onDisk) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  const open = (retain: ConstructorParameters<typeof MemorySnapshotStore>[0]): SnapshotStore =>
    onDisk ? new FileSnapshotStore(dir, retain) : new MemorySnapshotStore(retain);

  async function folders(): Promise<string[]> {
    return (await readdir(dir)).filter((n) => n.startsWith('snap-')).sort();
  }

  async function saveLosses(store: SnapshotStore, losses: number[]): Promise<SnapshotEntry[]> {
    const model = tinyModel();
    const saved = [];
    for (const [i, loss] of losses.entries()) {
      saved.push(await store.save(model, { step: i, metrics: { loss } }));
    }
    model.dispose();
    return saved;
  }

  it("'all' keeps every snapshot", async () => {
    const store = open({ retain: 'all' });
    await saveLosses(store, [3, 2, 1]);
    const listed = (await store.list()).map((e) => e.id);
    expect(listed).toEqual(['snap-000001', 'snap-000002', 'snap-000003']);
    if (onDisk) expect(await folders()).toEqual(listed);
  });

  it('{ last: 2 } keeps the two newest and deletes the files of the others', async () => {
    const store = open({ retain: { last: 2 } });
    await saveLosses(store, [3, 2, 1, 4]);
    const listed = (await store.list()).map((e) => e.id);
    expect(listed).toEqual(['snap-000003', 'snap-000004']);
    if (onDisk) expect(await folders()).toEqual(listed);
    for (const id of listed) (await store.load(id)).dispose();
  });

  it('{ best: 2, min } keeps the two lowest losses, even if the newest is dropped at once', async () => {
    const store = open({ retain: { best: 2, metric: 'loss', mode: 'min' } });
    const saved = await saveLosses(store, [3, 1, 2, 5, 0.5]);
    expect(saved[3]!.id).toBe('snap-000004'); // returned although dropped right away
    const listed = await store.list();
    expect(listed.map((e) => [e.id, e.metrics?.loss])).toEqual([
      ['snap-000002', 1],
      ['snap-000005', 0.5],
    ]);
    if (onDisk) expect(await folders()).toEqual(['snap-000002', 'snap-000005']);
  });

  it('{ best: 1, max } keeps the highest', async () => {
    const store = open({ retain: { best: 1, metric: 'loss', mode: 'max' } });
    await saveLosses(store, [3, 7, 2]);
    expect((await store.list()).map((e) => e.metrics?.loss)).toEqual([7]);
    if (onDisk) expect(await folders()).toEqual(['snap-000002']);
  });

  it('a best-k store refuses, before writing anything, a snapshot without the metric', async () => {
    const store = open({ retain: { best: 2, metric: 'val_loss', mode: 'min' } });
    const model = tinyModel();
    await expect(store.save(model, { step: 1, metrics: { loss: 1 } })).rejects.toThrow(
      /meta\.metrics\.val_loss.*keeps the best 2 by 'val_loss'/,
    );
    model.dispose();
    expect(await store.list()).toEqual([]);
    if (onDisk) expect(await folders()).toEqual([]);
  });
});
