import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEnv } from '../src/commands/compare-jobs.js';
import { methodChains } from '../src/commands/compare-methods.js';
import { onerunHere, SMALL } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-jobs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const COMPARE = [...SMALL, '--budget', '4', '--cycles', '2', '--fge-cycles', '2', '--no-curve'];
const rowsOf = async (dir: string) =>
  JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')).rows.map(
    (r: { method: string; metrics: unknown }) => [r.method, r.metrics],
  );

describe('methodChains', () => {
  it('keeps FGE with the baseline it continues; every other method alone', () => {
    expect(methodChains(['baseline', 'sse', 'fge', 'swa'])).toEqual([
      ['baseline', 'fge'],
      ['sse'],
      ['swa'],
    ]);
    expect(methodChains(['fge', 'swa'])).toEqual([['fge'], ['swa']]);
    expect(methodChains(['sse', 'fge', 'baseline'])).toEqual([['sse'], ['baseline', 'fge']]);
  });
});

describe('workerEnv', () => {
  it("caps the model's intra-op pool at cores / jobs per native worker; a pool the user gave stays", () => {
    const cores = availableParallelism();
    const split = (jobs: number) => String(Math.max(1, Math.floor(cores / jobs)));
    const threads = (
      backend: string,
      jobs: number,
      intraOp: number | undefined,
      by: 'flag' | 'environment' | 'model' = 'model',
    ) =>
      workerEnv(
        {
          requested: 'auto',
          backend,
          skipped: [],
          ...(intraOp !== undefined
            ? { nativeThreads: { intraOp, interOp: 1 }, threadsChosenBy: by }
            : {}),
        },
        jobs,
        { TF_NUM_INTRAOP_THREADS: 'parent' },
      ).TF_NUM_INTRAOP_THREADS;
    expect(threads('tensorflow', 2, cores)).toBe(split(2));
    expect(threads('tensorflow-gpu', 3, cores)).toBe(split(3));
    expect(threads('tensorflow', 4 * cores, cores)).toBe('1');
    // A dense-bound model's single thread is never raised.
    expect(threads('tensorflow', 2, 1)).toBe('1');
    expect(threads('tensorflow', 2, 3, 'flag')).toBe('3');
    expect(threads('tensorflow', 2, 5, 'environment')).toBe('5');
    // One worker, or a backend without TensorFlow: the environment as it is.
    expect(threads('tensorflow', 1, cores)).toBe('parent');
    expect(threads('wasm', 2, undefined)).toBe('parent');
  });
});

describe('compare --jobs', () => {
  it('trains the methods in worker processes with the same results as in one process', {
    timeout: 300_000,
  }, async () => {
    const methods = ['--methods', 'baseline,sse,fge'];
    const one = await onerunHere([
      'compare',
      ...COMPARE,
      ...methods,
      '--jobs',
      '1',
      '--out',
      join(root, 'one'),
    ]);
    expect(one.code, one.stderr).toBe(0);
    const two = await onerunHere([
      'compare',
      ...COMPARE,
      ...methods,
      '--jobs',
      '2',
      '--out',
      join(root, 'two'),
    ]);
    expect(two.code, two.stderr).toBe(0);
    expect(await rowsOf(join(root, 'two'))).toEqual(await rowsOf(join(root, 'one')));
  });
});

describe('onerun report', () => {
  it('merges comparisons made by separate processes into one table and report', {
    timeout: 300_000,
  }, async () => {
    const a = join(root, 'job-a');
    const b = join(root, 'job-b');
    expect(
      (await onerunHere(['compare', ...COMPARE, '--methods', 'baseline', '--out', a])).code,
    ).toBe(0);
    expect((await onerunHere(['compare', ...COMPARE, '--methods', 'swa', '--out', b])).code).toBe(
      0,
    );
    const out = join(root, 'merged');
    const r = await onerunHere(['report', a, b, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const merged = JSON.parse(r.stdout);
    expect(merged.runs.map((x: { name: string }) => x.name)).toEqual(['baseline', 'swa']);
    // The merged numbers are the runs' own.
    expect(merged.runs[0].metrics).toEqual((await rowsOf(a))[0][1]);
    expect(merged.runs[1].metrics).toEqual((await rowsOf(b))[0][1]);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('swa-stale-bn');
    const csv = await readFile(join(out, 'metrics.csv'), 'utf8');
    expect(csv).toMatch(/^swa,swa,\d+,4,\d+,test_accuracy,/m);

    // A method twice is told apart by its seed.
    const c = join(root, 'job-c');
    expect(
      (
        await onerunHere([
          'compare',
          ...COMPARE,
          '--methods',
          'baseline',
          '--seed',
          '5',
          '--out',
          c,
        ])
      ).code,
    ).toBe(0);
    const seeds = await onerunHere(['report', a, c, '--out', join(root, 'seeds'), '--json']);
    expect(seeds.code, seeds.stderr).toBe(0);
    expect(JSON.parse(seeds.stdout).runs.map((x: { name: string }) => x.name)).toEqual([
      'baseline seed 0',
      'baseline seed 5',
    ]);
    // In the merged metrics.csv the method stays the method; the seed has its own column.
    const mergedCsv = (await readFile(join(root, 'seeds', 'metrics.csv'), 'utf8')).split('\n');
    const results = mergedCsv.filter((l: string) => l.startsWith('baseline,baseline,'));
    expect(new Set(results.map((l: string) => l.split(',')[2]))).toEqual(new Set(['0', '5']));
  });

  it('refuses runs of another budget, unfinished folders, and the same run twice', async () => {
    const a = join(root, 'job-a');
    const other = join(root, 'budget-5');
    expect(
      (
        await onerunHere([
          'compare',
          ...COMPARE,
          '--budget',
          '5',
          '--methods',
          'baseline',
          '--out',
          other,
        ])
      ).code,
    ).toBe(0);
    const budget = await onerunHere(['report', a, other, '--out', join(root, 'x')]);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/budget \(epochs\) 4 vs 5/);
    const twice = await onerunHere(['report', a, a, '--out', join(root, 'y')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/the same run twice/);
    const unfinished = join(root, 'unfinished');
    await cp(join(a, 'baseline'), unfinished, { recursive: true });
    const progress = JSON.parse(await readFile(join(unfinished, 'progress.json'), 'utf8'));
    await writeFile(
      join(unfinished, 'progress.json'),
      JSON.stringify({ ...progress, status: 'running' }),
    );
    const running = await onerunHere(['report', unfinished, '--out', join(root, 'w')]);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/unfinished baseline run; finish it/);
    const none = await onerunHere(['report', root, '--out', join(root, 'z')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/neither an onerun run folder .* nor a comparison/);
  });
});
