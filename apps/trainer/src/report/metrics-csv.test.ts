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
  it('writes one measurement a row: epochs of the current model, then the final scores', () => {
    const lines = metricsCsv([{ method: 'sse', progress, metrics }])
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('method,epoch,step,model,metric,value');
    expect(lines.slice(1, 9)).toEqual([
      'sse,1,10,current,lr,0.1',
      'sse,1,10,current,train_loss,0.9',
      'sse,1,10,current,test_nll,0.8',
      'sse,1,10,current,test_accuracy,0.7',
      'sse,1,10,current,train_seconds,1.5',
      'sse,2,20,current,lr,0.05',
      'sse,2,20,current,train_loss,0.5',
      'sse,2,20,current,train_seconds,1.25',
    ]);
    expect(lines).toContain('sse,2,20,result,test_accuracy,0.8');
    expect(lines).toContain('sse,2,10,snap-000001,test_accuracy,0.7');
    // A cell with a comma or quote is quoted, the quote doubled.
    expect(lines).toContain('sse,2,20,"a,""b""",test_nll,0.25');
    expect(lines).toContain('sse,2,20,first-2,test_brier,0.2');
    expect(lines).toContain('sse,2,20,last-1,test_accuracy,0.75');
    expect(lines).toContain('sse,2,20,result,disagreement,0.125');
    // 1 header + 8 epoch rows + 4 × (result + 2 members + 2 first-k + 2 last-k) + disagreement.
    expect(lines).toHaveLength(1 + 8 + 4 * 7 + 1);
  });
});
