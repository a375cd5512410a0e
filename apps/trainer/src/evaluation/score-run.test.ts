import { MemorySnapshotStore } from '@onerun/snapshots';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Split } from '../data/split.js';
import { evaluateRun } from './score-run.js';

function tinyModel(seed: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 1] }),
      tf.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
    ],
  });
  return model;
}

function split(): Split {
  const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const pixels = Float32Array.from({ length: 24 }, (_, i) => ((i * 37) % 101) / 101);
  return new Split(pixels, labels, [2, 2, 1], 3, { mean: [0], std: [1] });
}

describe('evaluateRun', () => {
  it('reads an SWA run written before the names were unified (tag swa-no-bn) under the current name', async () => {
    const store = new MemorySnapshotStore();
    const test = split();
    for (const [i, kind] of ['sgd', 'swa-no-bn', 'swa'].entries()) {
      const model = tinyModel(i);
      await store.save(model, {
        step: 9,
        epoch: 1,
        tags: { method: 'swa', kind, phase: 'final', averaged: '2' },
      });
      model.dispose();
    }
    const { metrics, examples } = await evaluateRun('swa', store, test);
    expect(metrics.members.map((m) => m.kind)).toEqual(['sgd', 'swa-stale-bn', 'swa']);
    expect(metrics.swa?.averaged).toBe(2);
    // The per-example scores are the result's (the SWA model), in test order.
    expect(examples.correct.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(
      metrics.result.accuracy,
      12,
    );
    expect(examples.nll.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(metrics.result.nll, 5);
  });
});
