import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySnapshotStore, type SnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedData, loadData } from '../data/load.js';
import { UsageError } from '../errors.js';
import type { RunProgress } from '../run-folder/records.js';
import { resolveConfig } from './config.js';
import { trainRun } from './loop.js';
import { planMethod } from './plan.js';
import { MILESTONE_KINDS } from './swa-milestone.js';

let data: LoadedData;
beforeAll(async () => {
  data = await loadData({ data: 'synthetic', seed: 5, trainLimit: 96, testLimit: 32 });
});
afterAll(() => data.dispose());

// SWA from epoch 3 (absolute, so runs of different lengths share the schedule up to their end),
// averaging every update: 3 updates per epoch on 96 examples at batch 32.
const swa = (epochs: number, extra = {}) =>
  resolveConfig({
    method: 'swa',
    model: 'mlp',
    data: 'synthetic',
    epochs,
    batchSize: 32,
    swaStartFraction: 3 / epochs,
    swaLr: 0.01,
    swaEvery: 1,
    ...extra,
  });

async function weightsOf(store: SnapshotStore, kind: string, epoch?: number) {
  const entry = (await store.list()).find(
    (e) => e.tags?.kind === kind && (epoch === undefined || e.tags?.epoch === String(epoch)),
  );
  if (!entry) throw new Error(`no ${kind} snapshot`);
  const model = await store.load(entry.id);
  const values = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  model.dispose();
  return values;
}

function expectClose(a: Float32Array[], b: Float32Array[]) {
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => {
    const worst = w.reduce((m, v, j) => Math.max(m, Math.abs(v - (b[i] as Float32Array)[j]!)), 0);
    expect(worst, `weight ${i}`).toBeLessThan(1e-6);
  });
}

describe('SWA scored before the end of its run (--swa-score-at)', () => {
  it('equals a run that ends there, and leaves the rest of the run as it was', async () => {
    const long = new MemorySnapshotStore();
    const short = new MemorySnapshotStore();
    const plain = new MemorySnapshotStore();
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const run = await trainRun({
      config: swa(6, { swaScoreAt: [4, 5] }),
      data,
      stores: { members: long },
      extraCallbacks: [{ onEpochEnd: async () => void counts.push(tf.memory().numTensors) }],
    });
    run.model.dispose();
    // The averager exists from epoch 4 on; saving milestones at 4 and 5 leaks nothing.
    expect(new Set(counts.slice(3)).size, `tensors per epoch: ${counts}`).toBe(1);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    expect(run.progress.swaMilestones?.map((m) => [m.epoch, m.averaged])).toEqual([
      [4, 3],
      [5, 6],
    ]);
    for (const [store, epochs] of [
      [short, 4],
      [plain, 6],
    ] as const) {
      (await trainRun({ config: swa(epochs), data, stores: { members: store } })).model.dispose();
    }
    // The SWA model after epoch 4 of the 6-epoch run is the 4-epoch run's SWA model, with and
    // without the batch-norm recompute.
    expectClose(await weightsOf(long, MILESTONE_KINDS.bn, 4), await weightsOf(short, 'swa'));
    expectClose(
      await weightsOf(long, MILESTONE_KINDS.stale, 4),
      await weightsOf(short, 'swa-stale-bn'),
    );
    // Training went on from the SGD iterate: the end is the same as without milestones.
    expectClose(await weightsOf(long, 'swa'), await weightsOf(plain, 'swa'));
    expectClose(await weightsOf(long, 'sgd'), await weightsOf(plain, 'sgd'));
  });

  it('a run resumed after a milestone keeps it once, and redoes one saved after its checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onerun-milestone-'));
    try {
      const members = new MemorySnapshotStore();
      const checkpoints = new MemorySnapshotStore({ retain: { last: 2 } });
      const saved: RunProgress[] = [];
      const stores = {
        members,
        checkpoints,
        averagerDir: dir,
        saveProgress: async (p: RunProgress) => void saved.push(structuredClone(p)),
      };
      const config = swa(6, { swaScoreAt: [4, 5] });
      (await trainRun({ config, data, stores })).model.dispose();
      const reference = {
        bn4: await weightsOf(members, MILESTONE_KINDS.bn, 4),
        bn5: await weightsOf(members, MILESTONE_KINDS.bn, 5),
        swa: await weightsOf(members, 'swa'),
      };
      // Killed right after epoch 4's checkpoint: the store already holds what epochs 5 and 6
      // saved (as if the process had died late), and progress knows only epoch 4's milestone.
      const atFour = saved.find((p) => p.checkpoint?.epoch === 4) as RunProgress;
      expect(atFour.swaMilestones?.map((m) => m.epoch)).toEqual([4]);
      (await trainRun({ config, data, stores, resume: atFour })).model.dispose();
      const kinds = (await members.list()).map((e) => `${e.tags?.kind}@${e.tags?.epoch ?? ''}`);
      expect(kinds.sort()).toEqual(
        [
          'swa-stale-bn-at@4',
          'swa-at@4',
          'swa-stale-bn-at@5',
          'swa-at@5',
          'sgd@',
          'swa-stale-bn@',
          'swa@',
        ].sort(),
      );
      expectClose(await weightsOf(members, MILESTONE_KINDS.bn, 4), reference.bn4);
      expectClose(await weightsOf(members, MILESTONE_KINDS.bn, 5), reference.bn5);
      expectClose(await weightsOf(members, 'swa'), reference.swa);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses epochs before averaging starts or at the end', () => {
    expect(() => planMethod(swa(6, { swaScoreAt: [3] }), 96)).toThrow(UsageError);
    expect(() => planMethod(swa(6, { swaScoreAt: [3] }), 96)).toThrow(/not after SWA's start/);
    expect(() => swa(6, { swaScoreAt: [6] })).toThrow(/--swa-score-at 6 is not before the last/);
  });
});
