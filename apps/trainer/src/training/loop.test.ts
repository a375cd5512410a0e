import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedData, loadData } from '../data/load.js';
import { UsageError } from '../errors.js';
import { type MethodName, resolveConfig, startFraction } from './config.js';
import { epochOrder, trainRun } from './loop.js';
import { planMethod } from './plan.js';

let data: LoadedData;
beforeAll(async () => {
  data = await loadData({ data: 'synthetic', seed: 5, trainLimit: 96, testLimit: 32 });
});
afterAll(() => data.dispose());

const config = (method: MethodName, epochs: number, extra = {}) =>
  resolveConfig({ method, model: 'mlp', data: 'synthetic', epochs, batchSize: 32, ...extra });

describe('planMethod', () => {
  it('lays out each method in updates', () => {
    // 96 examples, batch 32: 3 updates per epoch.
    const sse = planMethod(config('sse', 10, { cycles: 5 }), 96);
    expect([sse.stepsPerEpoch, sse.totalSteps]).toEqual([3, 30]);
    expect([...Array(30).keys()].filter((s) => sse.schedule.collectsAt?.(s))).toEqual([
      5, 11, 17, 23, 29,
    ]);
    const fge = planMethod(config('fge', 10, { cycles: 2 }), 96);
    // Pretraining: round(0.8 · 10) = 8 epochs = 24 updates; 6 left for 2 cycles of 2·⌊6/4⌋ = 2.
    expect(fge.pretrainSteps).toBe(24);
    expect(fge.phases.map((p) => [p.kind, p.fromEpoch, p.toEpoch])).toEqual([
      ['schedule', 0, 8],
      ['fge', 8, 10],
    ]);
    expect(fge.phases[1]).toMatchObject({ cycleSteps: 2 });
    // Cycles of 2 updates: the minimum lr2 first, then back to lr1.
    expect(fge.schedule.lrAt(24)).toBeCloseTo(0.0025, 10);
    expect(fge.schedule.lrAt(25)).toBeCloseTo(0.025, 10);
    const swa = planMethod(config('swa', 8), 96);
    expect(swa.swaStart).toBe(18); // round(0.75 · 8) = 6 epochs
    expect(swa.schedule.lrAt(23)).toBeCloseTo(0.025, 10);
    expect(swa.schedule.lrAt(8)).toBeCloseTo(0.05, 10);
  });

  it('refuses budgets too small for the cycles, with the fix', () => {
    expect(() => planMethod(config('sse', 3, { cycles: 4 }), 96)).toThrow(UsageError);
    expect(() => planMethod(config('sse', 3, { cycles: 4 }), 96)).toThrow(
      /--epochs ≥ 4 or --cycles ≤ 3/,
    );
    expect(() => planMethod(config('fge', 5, { cycles: 4 }), 96)).toThrow(
      /leave 3 updates after 4 pretraining epochs for 4 FGE cycles/,
    );
    expect(() => planMethod(config('swa', 1), 96)).toThrow(/SWA needs at least 2 epochs/);
  });
});

describe('method knobs', () => {
  it("SSE --sse-lr sets each cycle's peak rate α0", () => {
    const sse = planMethod(config('sse', 10, { cycles: 5, sseLr: 0.2 }), 96);
    // Cosine restarts (Huang et al.): α0/2 · (cos(π · (t mod ⌈T/M⌉)/⌈T/M⌉) + 1); 6 updates a cycle.
    for (const t of [0, 1, 6, 8]) {
      const expected = (0.2 / 2) * (Math.cos((Math.PI * (t % 6)) / 6) + 1);
      expect(sse.schedule.lrAt(t)).toBeCloseTo(expected, 10);
    }
  });

  it('FGE --fge-start and --fge-cycle-epochs place the phase and size the cycles', () => {
    // 10 epochs of 3 updates; collection from epoch 4 (12 updates): 18 left, cycles of
    // 2 epochs = 6 updates → 3 whole cycles.
    const fge = planMethod(
      config('fge', 10, {
        pretrainFraction: startFraction('--fge-start', 4, 10),
        fgeCycleEpochs: 2,
      }),
      96,
    );
    expect(fge.pretrainSteps).toBe(12);
    expect(fge.phases[1]).toMatchObject({ kind: 'fge', fromEpoch: 4, cycleSteps: 6, cycles: 3 });
    // An odd cycle (1 epoch = 3 updates) rounds down to an even 2: 9 cycles in 18 updates.
    const odd = planMethod(config('fge', 10, { fgeCycleEpochs: 1, pretrainFraction: 0.4 }), 96);
    expect(odd.phases[1]).toMatchObject({ cycleSteps: 2, cycles: 9 });
  });

  it('SWA --swa-every and --swa-start (epoch or fraction)', () => {
    const swa = planMethod(
      config('swa', 8, { swaStartFraction: startFraction('--swa-start', 5, 8), swaEvery: 2 }),
      96,
    );
    expect(swa.swaStart).toBe(15);
    expect(swa.phases[0]).toMatchObject({ kind: 'swa', startEpoch: 5, every: { steps: 2 } });
    expect(planMethod(config('swa', 8), 96).phases[0]).toMatchObject({ every: { epochs: 1 } });
    expect(startFraction('--swa-start', 0.5, 8)).toBe(0.5);
    expect(() => startFraction('--swa-start', 8, 8)).toThrow(
      /--swa-start 8 is neither an epoch in 1…7 nor a fraction in \(0, 1\)/,
    );
  });
});

describe('epochOrder', () => {
  it('is a permutation fixed by seed and epoch', () => {
    const a = epochOrder(3, 2, 50);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(epochOrder(3, 2, 50)).toEqual(a);
    expect(epochOrder(3, 3, 50)).not.toEqual(a);
    expect(epochOrder(4, 2, 50)).not.toEqual(a);
  });
});

describe('trainRun', () => {
  it('hands onBatchEnd callbacks the batch loss as model.fit does, without freeing its own copy', async () => {
    const seen: number[][] = [[], []];
    const before = tf.memory().numTensors;
    const result = await trainRun({
      config: config('baseline', 2),
      data,
      stores: { members: new MemorySnapshotStore() },
      extraCallbacks: [
        {
          onBatchEnd: async (_batch, logs) =>
            void seen[seen[0]!.length < 3 ? 0 : 1]!.push(logs?.loss as number),
        },
      ],
    });
    // 3 updates an epoch; each epoch's training loss is the mean of its batches' losses.
    expect(seen.map((s) => s.length)).toEqual([3, 3]);
    result.progress.history.forEach((h, e) => {
      const batches = seen[e]!;
      expect(h.trainLoss).toBeCloseTo(batches.reduce((a, v) => a + v, 0) / batches.length, 6);
    });
    result.model.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
  });

  it.each(['sse', 'fge', 'swa'] as const)(
    '%s keeps the tensor count flat across epochs and collects where its schedule says',
    async (method) => {
      const counts: number[] = [];
      const before = tf.memory().numTensors;
      const members = new MemorySnapshotStore();
      const result = await trainRun({
        config: config(method, 5, { cycles: method === 'fge' ? 1 : 2 }),
        data,
        stores: { members },
        extraCallbacks: [{ onEpochEnd: async () => void counts.push(tf.memory().numTensors) }],
      });
      // SWA's averager allocates its variables at the first average (after epoch 4).
      const steady = method === 'swa' ? counts.slice(3) : counts.slice(1);
      expect(new Set(steady).size, `tensors per epoch: ${counts}`).toBe(1);
      const kinds = (await members.list()).map((e) => e.tags?.kind);
      const steps = result.progress.collections.map((c) => c.step);
      if (method === 'sse') {
        expect(kinds).toEqual(['member', 'member']);
        expect(steps).toEqual([8, 15]); // ⌈15/2⌉ = 8-update cycles, and the last update
      } else if (method === 'fge') {
        // 4 pretraining epochs (12 updates), then one cycle of 2 updates: its minimum is the
        // 13th update, where training stops (no update past the last collection). The model
        // the cycles start from is kept too, after the 12th update.
        expect(kinds).toEqual(['start', 'member']);
        expect(result.progress.start?.step).toBe(12);
        expect(steps).toEqual([13]);
        expect(result.progress.history.at(-1)?.step).toBe(13);
      } else {
        expect(kinds).toEqual(['sgd', 'swa-stale-bn', 'swa']);
        expect(steps).toEqual([12, 15]); // averaging from epoch round(0.75 · 5) = 4
      }
      expect(result.progress.history).toHaveLength(5);
      result.model.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    },
  );
});
