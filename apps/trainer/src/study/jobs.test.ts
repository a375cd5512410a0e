import { describe, expect, it } from 'vitest';
import { resultsV2PlanPath } from './init.js';
import { expandPlan, modelTag, optionArgs } from './jobs.js';
import { loadPlan } from './plan.js';

describe('study jobs', () => {
  it('turns plan options into compare options', () => {
    expect(
      optionArgs({
        batchSize: 128,
        curve: false,
        swaBudget: [1, 1.5],
        quiet: true,
        swaEvery: 'epoch',
      }),
    ).toEqual([
      '--batch-size',
      '128',
      '--no-curve',
      '--swa-budget',
      '1,1.5',
      '--quiet',
      '--swa-every',
      'epoch',
    ]);
    expect(modelTag('models/My Net.json')).toBe('my-net');
    expect(modelTag('cnn')).toBe('cnn');
  });

  it('expands the Results v2 plan into its 83 jobs, the curve on the first 3 seeds, deep ensembles last', () => {
    const jobs = expandPlan(loadPlan(resultsV2PlanPath()));
    expect(jobs).toHaveLength(83);
    expect(jobs.map((j) => j.index)).toEqual(jobs.map((_, i) => i));
    const first = jobs[0]!;
    expect(first.name).toBe('mlp-b30-s0-core');
    expect(first.args.join(' ')).toBe(
      'compare --model mlp --data fashion-mnist --data-dir /usr/share/datasets/fashion-mnist --train-limit 10000 --backend auto --lr 0.1 --batch-size 128 --eval-every 0 --cycles 5 --sse-lr 0.1 --fge-start 0.8 --fge-cycle-epochs 1 --fge-lr1 0.05 --fge-lr2 0.005 --fge-cycles 6 --budget 30 --seed 0 --methods baseline,sse,fge --curve-epochs 2 --points 21 --jobs 1',
    );
    expect(jobs.find((j) => j.name === 'mlp-b30-s30-core')?.args).toContain('--no-curve');
    const deep = jobs.filter((j) => j.kind === 'deep-ensemble');
    expect(deep).toHaveLength(13);
    expect(deep.every((d) => d.index > 69)).toBe(true);
    // Seed 90's ensemble: baselines 90, 0, 10, 20, 30 (cyclically).
    expect(deep.find((d) => d.name === 'mlp-b30-s90-deep')?.needs).toEqual(
      [90, 0, 10, 20, 30].map((s) => `mlp-b30-s${s}-core`),
    );
    // Five seeds, five members: one ensemble.
    expect(deep.filter((d) => d.budget === 20 && d.model === 'mlp').map((d) => d.name)).toEqual([
      'mlp-b20-s0-deep',
    ]);
  });
});
