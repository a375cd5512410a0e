import { InvalidArgumentError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Ensemble } from './ensemble.js';
import { MixedSnapshotKindsError } from './errors.js';
import { selectSnapshots } from './select.js';
import { probabilityModel, TrackingStore } from './test-fixtures.js';

/** A store laid out as an onerun SWA run folder's `snapshots/`: sgd, swa-no-bn, swa. */
async function swaShapedStore(): Promise<{ store: TrackingStore; ids: string[] }> {
  const store = new TrackingStore();
  const tables = [
    [
      [0.7, 0.2, 0.1],
      [0.1, 0.3, 0.6],
    ],
    [
      [0.5, 0.4, 0.1],
      [0.2, 0.2, 0.6],
    ],
    [
      [0.2, 0.7, 0.1],
      [0.3, 0.3, 0.4],
    ],
  ];
  const ids: string[] = [];
  for (const [i, kind] of ['sgd', 'swa-no-bn', 'swa'].entries()) {
    const model = probabilityModel(tables[i] as number[][]);
    ids.push((await store.save(model, { step: 9, tags: { method: 'swa', kind } })).id);
    model.dispose();
  }
  return { store, ids };
}

const x = () =>
  tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);

describe('Ensemble.fromStore and snapshot kinds', () => {
  it('refuses to mix an SWA store’s sgd, swa-no-bn and swa snapshots into one ensemble', async () => {
    const { store } = await swaShapedStore();
    for (const stream of [false, true]) {
      const error = await Ensemble.fromStore(store, { stream }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MixedSnapshotKindsError);
      expect((error as MixedSnapshotKindsError).kinds).toEqual([
        ['sgd', 1],
        ['swa-no-bn', 1],
        ['swa', 1],
      ]);
      expect((error as Error).message).toMatch(
        /3 kinds \(sgd ×1, swa-no-bn ×1, swa ×1\).*\{ kind: 'swa' \}/,
      );
      // ... and also with only `last`, which selects within a mix.
      await expect(Ensemble.fromStore(store, { last: 1, stream })).rejects.toThrow(
        MixedSnapshotKindsError,
      );
    }
    expect(store.loaded).toEqual([]);
  });

  it('kind picks the final SWA model alone: its probabilities, not a 3-member mean', async () => {
    const { store, ids } = await swaShapedStore();
    const ensemble = await Ensemble.fromStore(store, { kind: 'swa' });
    expect(ensemble.ids).toEqual([ids[2]]);
    const input = x();
    const probs = await ensemble.predict(input);
    const values = Array.from(await probs.data());
    for (const [i, p] of [0.2, 0.7, 0.1, 0.3, 0.3, 0.4].entries())
      expect(values[i]).toBeCloseTo(p, 5);
    tf.dispose([probs, input]);
    ensemble.dispose();
  });

  it('kind selects the members of an FGE-shaped store, leaving its start model out', async () => {
    const store = new TrackingStore();
    const saved: Record<string, string[]> = { start: [], member: [] };
    for (const [step, kind] of ['start', 'member', 'member', 'member'].entries()) {
      const model = probabilityModel([
        [0.6, 0.4],
        [0.5, 0.5],
      ]);
      saved[kind]?.push((await store.save(model, { step, tags: { kind } })).id);
      model.dispose();
    }
    await expect(Ensemble.fromStore(store)).rejects.toThrow(/start ×1, member ×3/);
    const members = await Ensemble.fromStore(store, { kind: 'member', last: 2, stream: true });
    expect(members.ids).toEqual(saved.member?.slice(1));
    members.dispose();
  });

  it('names an unknown kind and an id of another kind; untagged stores work as before', async () => {
    const { store, ids } = await swaShapedStore();
    await expect(Ensemble.fromStore(store, { kind: 'member' })).rejects.toThrow(
      /kind: got "member"; expected a kind the store holds \(sgd ×1, swa-no-bn ×1, swa ×1\)/,
    );
    await expect(
      Ensemble.fromStore(store, { kind: 'swa', ids: [ids[0] as string] }),
    ).rejects.toThrow(/ids\[0\].*a snapshot of kind 'swa' \(it is of kind 'sgd'\)/);
    await expect(Ensemble.fromStore(store, { kind: '' })).rejects.toThrow(InvalidArgumentError);
    // Explicit ids are the caller's choice, mixed or not.
    const chosen = await Ensemble.fromStore(store, { ids: [ids[0] as string, ids[2] as string] });
    expect(chosen.size).toBe(2);
    chosen.dispose();
    expect(selectSnapshots([{ id: 'a' }, { id: 'b', tags: { method: 'fge' } }], {})).toEqual([
      'a',
      'b',
    ]);
    expect(() => selectSnapshots([{ id: 'a' }, { id: 'b', tags: { kind: 'member' } }], {})).toThrow(
      /\(none\) ×1, member ×1/,
    );
  });
});
