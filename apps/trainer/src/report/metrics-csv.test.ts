import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../evaluation/score-run.js';
import type { RunProgress } from '../run-folder/records.js';
import { metricsCsv } from './metrics-csv.js';

const score = (accuracy: number) => ({ accuracy, nll: 1 - accuracy, ece: 0.01, brier: 0.2 });

const progress: RunProgress = {
  status: 'done',
  history: [
    { epoch: 1, step: 10, lr: 0.1, trainLoss: 0.9, testLoss: 0.8, testAccuracy: 0.7, seconds: 1.5 },
    { epoch: 2, step: 20, lr: 0.05, trainLoss: 0.5, seconds: 1.25 },
  ],
  lossCurve: [],
  collections: [],
  trainSeconds: 2.75,
};

const metrics = {
  method: 'sse',
  resultLabel: 'ensemble of 2',
  result: score(0.8),
  models: 2,
  members: [
    { id: 'snap-000001', kind: 'member', step: 10, ...score(0.7) },
    { id: 'a,"b"', kind: 'member', step: 20, ...score(0.75) },
  ],
  sizeCurve: [
    { k: 1, ...score(0.7) },
    { k: 2, ...score(0.8) },
  ],
  lastK: [
    { k: 1, ...score(0.75) },
    { k: 2, ...score(0.8) },
  ],
  disagreement: 0.125,
  reliability: [],
  testSize: 100,
} as RunMetrics;

describe('metricsCsv', () => {
  it('writes one measurement a row (tidy): method, variant, seed, epoch, step, metric, value', () => {
    const lines = metricsCsv([{ method: 'sse', seed: 3, backend: 'wasm', progress, metrics }])
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('method,variant,seed,epoch,step,metric,value,backend');
    expect(lines.slice(1, 9)).toEqual([
      'sse,iterate,3,1,10,lr,0.1,wasm',
      'sse,iterate,3,1,10,train_loss,0.9,wasm',
      'sse,iterate,3,1,10,test_nll,0.8,wasm',
      'sse,iterate,3,1,10,test_accuracy,0.7,wasm',
      'sse,iterate,3,1,10,train_seconds,1.5,wasm',
      'sse,iterate,3,2,20,lr,0.05,wasm',
      'sse,iterate,3,2,20,train_loss,0.5,wasm',
      'sse,iterate,3,2,20,train_seconds,1.25,wasm',
    ]);
    expect(lines).toContain('sse,sse,3,2,20,test_accuracy,0.8,wasm');
    expect(lines).toContain('sse,sse,3,2,20,disagreement,0.125,wasm');
    expect(lines).toContain('sse,member-1,3,2,10,test_accuracy,0.7,wasm');
    expect(lines).toContain('sse,member-2,3,2,20,test_nll,0.25,wasm');
    expect(lines).toContain('sse,first-2,3,2,20,test_brier,0.2,wasm');
    expect(lines).toContain('sse,last-1,3,2,20,test_accuracy,0.75,wasm');
    // 1 header + 8 epoch rows + 4 × (result + 2 members + 2 first-k + 2 last-k) + disagreement.
    expect(lines).toHaveLength(1 + 8 + 4 * 7 + 1);
  });

  it('leaves out the epochs a branched run inherited; quotes cells; seeds in their own column', () => {
    const csv = metricsCsv([
      { method: 'fge', seed: 0, backend: 'cpu', progress, metrics, inheritedEpochs: 1 },
      { method: 'sse', seed: 1, backend: 'a,"b"', progress, metrics },
    ]);
    const rows = csv.trimEnd().split('\n');
    expect(rows.filter((l) => l.startsWith('fge,iterate,'))).toEqual([
      'fge,iterate,0,2,20,lr,0.05,cpu',
      'fge,iterate,0,2,20,train_loss,0.5,cpu',
      'fge,iterate,0,2,20,train_seconds,1.25,cpu',
    ]);
    expect(rows).toContain('sse,iterate,1,1,10,lr,0.1,"a,""b"""');
  });

  it("names SWA's models as the tables and snapshot tags do, old run folders included", () => {
    const swa = {
      ...metrics,
      method: 'swa',
      members: [
        { id: 's1', kind: 'sgd', step: 20, ...score(0.6) },
        { id: 's2', kind: 'swa-no-bn', step: 20, ...score(0.5) }, // written before the rename
        { id: 's3', kind: 'swa', step: 20, ...score(0.8) },
      ],
      sizeCurve: [{ k: 1, ...score(0.8) }],
      swa: { sgd: score(0.6), staleBatchNorm: score(0.5), averaged: 2 },
    } as RunMetrics;
    const variants = new Set(
      metricsCsv([{ method: 'swa', seed: 0, backend: 'cpu', progress, metrics: swa }])
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]),
    );
    expect([...variants].sort()).toEqual(['iterate', 'sgd', 'swa', 'swa-stale-bn']);
  });
});
