import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onerunHere, SMALL } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-knobs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const json = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe("every method's knobs", () => {
  it('train: SWA every k updates from an epoch, test metrics every n epochs', async () => {
    const out = join(root, 'swa');
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'swa',
      '--epochs',
      '6',
      '--swa-start',
      '4',
      '--swa-every',
      '2',
      '--swa-lr',
      '0.01',
      '--eval-every',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { config } = await json(join(out, 'config.json'));
    expect(config).toMatchObject({ swaEvery: 2, swaLr: 0.01, evalEvery: 3 });
    expect(config.swaStartFraction * 6).toBeCloseTo(4, 12);
    const progress = await json(join(out, 'progress.json'));
    // 4 updates an epoch (128 synthetic examples, batch 32): averaging from update 16, every 2.
    expect(progress.collections.map((c: { step: number }) => c.step)).toEqual([18, 20, 22, 24]);
    expect(JSON.parse(r.stdout).metrics.models).toBe(4);
    expect(
      progress.history.map((h: { epoch: number; testAccuracy?: number }) => [
        h.epoch,
        h.testAccuracy !== undefined,
      ]),
    ).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, false],
      [6, true],
    ]);
  });

  it('compare: SWA at 1.5 budgets (scored at 1.25 too) with its own knobs, FGE from an epoch, merged with a 1-budget run', async () => {
    const out = join(root, 'compare');
    const r = await onerunHere([
      'compare',
      ...SMALL,
      '--budget',
      '4',
      '--methods',
      'baseline,fge,swa',
      '--no-curve',
      '--jobs',
      '1',
      '--fge-start',
      '2',
      '--fge-cycle-epochs',
      '1',
      '--swa-budget',
      '1.25,1.5',
      '--swa-start',
      '4',
      '--swa-every',
      'epoch',
      '--eval-every',
      '0',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const swa = await json(join(out, 'swa', 'config.json'));
    expect(swa.config).toMatchObject({
      epochs: 6,
      budget: 4,
      swaEvery: 'epoch',
      evalEvery: 0,
      swaScoreAt: [5],
    });
    // Averaging at the end of every epoch from the 4th: two models in it after epoch 5 (1.25 budgets).
    const swaMetrics = await json(join(out, 'swa', 'metrics.json'));
    expect(swaMetrics.swa.atEpochs).toHaveLength(1);
    expect(swaMetrics.swa.atEpochs[0]).toMatchObject({ epoch: 5, averaged: 2 });
    expect(swaMetrics.swa.atEpochs[0].result.accuracy).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/swa-at-5 +average of 2/);
    const fge = await json(join(out, 'fge', 'progress.json'));
    // FGE from epoch 2 with 1-epoch cycles (4 updates): two cycles, two members, and its start
    // model (the baseline at epoch 2) kept and scored on its own.
    expect(fge.collections).toHaveLength(2);
    expect(fge.start.step).toBe(8);
    const fgeMetrics = await json(join(out, 'fge', 'metrics.json'));
    expect(fgeMetrics.start).toMatchObject({ kind: 'start', step: 8 });
    expect(fgeMetrics.start.ece).toBeGreaterThanOrEqual(0);
    expect(fgeMetrics.members).toHaveLength(2);
    const baseline = await json(join(out, 'baseline', 'progress.json'));
    // --eval-every 0: test metrics after the last epoch only.
    expect(
      baseline.history.filter((h: { testAccuracy?: number }) => h.testAccuracy !== undefined),
    ).toHaveLength(1);
    // `report` accepts a run of the same comparison budget alongside.
    const plain = join(root, 'plain');
    expect(
      (
        await onerunHere([
          'compare',
          ...SMALL,
          '--budget',
          '4',
          '--methods',
          'sse',
          '--cycles',
          '2',
          '--no-curve',
          '--out',
          plain,
        ])
      ).code,
    ).toBe(0);
    const merged = await onerunHere([
      'report',
      out,
      plain,
      '--out',
      join(root, 'merged'),
      '--json',
    ]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout).runs.map((x: { name: string }) => x.name)).toEqual([
      'baseline',
      'fge',
      'swa',
      'sse',
    ]);
  });

  it('SWAG: fitted beside SWA, scored as a seeded Bayesian model average of its draws', async () => {
    const out = join(root, 'swag');
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'swa',
      '--epochs',
      '4',
      '--swa-start',
      '2',
      '--swa-every',
      '1',
      '--swag-rank',
      '3',
      '--swag-samples',
      '4',
      '--swa-score-at',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { metrics } = JSON.parse(r.stdout);
    // After epoch 3 (--swa-score-at): 4 updates averaged, SWAG's state of then scored as well.
    expect(metrics.swa.atEpochs).toHaveLength(1);
    expect(metrics.swa.atEpochs[0]).toMatchObject({ epoch: 3, averaged: 4 });
    expect(metrics.swa.atEpochs[0].swag).toMatchObject({ rank: 3, columns: 3, samples: 4 });
    // 8 updates averaged (epochs 3 and 4, every update); the last 3 deviations kept.
    expect(metrics.swa.averaged).toBe(8);
    expect(metrics.swag).toMatchObject({ rank: 3, columns: 3, samples: 4 });
    for (const key of ['accuracy', 'nll', 'ece', 'brier'])
      expect(Number.isFinite(metrics.swag.metrics[key]), key).toBe(true);
    // The same draws every time: eval reproduces the numbers train wrote.
    const again = await onerunHere(['eval', out, '--backend', 'cpu', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).metrics.swag).toEqual(metrics.swag);
    const table = await onerunHere(['eval', out, '--backend', 'cpu']);
    expect(table.stdout).toMatch(/^swag, BMA of 4 \(K=3\)\s+\d+\.\d+%/m);
    const csv = await readFile(join(out, 'metrics.csv'), 'utf8');
    expect(csv).toMatch(/^swa,swag,0,4,\d+,test_nll,/m);
    expect(csv).toMatch(/^swa,swag-at-3,0,3,12,test_nll,/m);
    expect(table.stdout).toMatch(/^swag-at-3\s+\d+\.\d+%/m);
  });

  it('refuses a start outside the budget, naming it', async () => {
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'swa',
      '--epochs',
      '4',
      '--swa-start',
      '4',
      '--out',
      join(root, 'bad'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--swa-start 4 is neither an epoch in 1…3 nor a fraction/);
  });
});
