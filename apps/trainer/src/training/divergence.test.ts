import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedData, loadData } from '../data/load.js';
import type { RunProgress } from '../run-folder/records.js';
import { resolveConfig } from './config.js';
import { DivergenceError, firstNonFinite, weightsAreFinite } from './divergence.js';
import { trainRun } from './loop.js';

let data: LoadedData;
beforeAll(async () => {
  data = await loadData({ data: 'synthetic', seed: 5, trainLimit: 96, testLimit: 32 });
});
afterAll(() => data.dispose());

// 96 examples in batches of 32: 3 updates per epoch.
const config = resolveConfig({
  method: 'sse',
  model: 'mlp',
  data: 'synthetic',
  epochs: 4,
  batchSize: 32,
  cycles: 2,
});

/** Writes NaN into every live kernel (only the run's model has any): a diverged update. */
function poisonKernels(): void {
  for (const v of Object.values(tf.engine().state.registeredVariables)) {
    if (v.name.includes('kernel')) v.assign(tf.fill(v.shape, Number.NaN));
  }
}

describe('divergence', () => {
  it('firstNonFinite finds NaN and ±Infinity', () => {
    expect(firstNonFinite([1, 2, 3])).toBe(-1);
    expect(firstNonFinite([1, Number.NaN, Number.POSITIVE_INFINITY])).toBe(1);
    expect(firstNonFinite(Float32Array.of(0, Number.NEGATIVE_INFINITY))).toBe(1);
  });

  it('stops at the first non-finite loss, names the update, keeps the last good checkpoint', async () => {
    const members = new MemorySnapshotStore();
    const checkpoints = new MemorySnapshotStore({ retain: { last: 2 } });
    const saved: RunProgress[] = [];
    const run = trainRun({
      config,
      data,
      stores: {
        members,
        checkpoints,
        saveProgress: async (p) => void saved.push(structuredClone(p)),
      },
      // After two good epochs (and their checkpoints), as an update with a huge rate would.
      extraCallbacks: [
        { onEpochBegin: async (epoch) => (epoch === 2 ? poisonKernels() : undefined) },
      ],
    });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    // Epochs 1 and 2 (updates 1–6) were fine; update 7 is the first with poisoned weights.
    expect((error as DivergenceError).step).toBe(7);
    expect((error as Error).message).toMatch(
      /update 7: the training loss is NaN\. The learning rate is the likely cause \(--lr 0\.05.*last good checkpoint \(after epoch 2\)/,
    );
    const kept = await checkpoints.list();
    expect(kept.map((e) => e.epoch)).toEqual([1, 2]);
    const probe = await checkpoints.load(kept.at(-1)!.id);
    expect(await weightsAreFinite(probe)).toBe(true);
    probe.dispose();
    expect(saved.at(-1)?.checkpoint?.epoch).toBe(2);
  });
});
