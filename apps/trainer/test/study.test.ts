import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StudyResults } from '../src/study/collect.js';
import { onerun } from './helpers.js';

/** A study small enough for the suite: 2 seeds × (baseline, SWA) at 2 epochs, and their deep ensemble. */
export function tinyPlan(dir: string): string {
  const file = join(dir, 'plan.json');
  writeFileSync(
    file,
    JSON.stringify({
      onerunStudy: 1,
      name: 'tiny study',
      data: { name: 'synthetic', trainLimit: 128, testLimit: 64 },
      model: 'mlp',
      options: { backend: 'cpu', batchSize: 64, lr: 0.05, evalEvery: 0 },
      groups: [
        {
          id: 'core',
          budgets: [2],
          seeds: { count: 2 },
          methods: ['baseline', 'swa'],
          options: { swaBudget: [1, 1.5], swaStart: 1 },
        },
        { id: 'deep', kind: 'deep-ensemble', of: 'core', members: 2, budgets: [2], seeds: [0] },
      ],
      claims: [
        {
          id: '1',
          claim: 'SWA beats SGD',
          method: { method: 'swa', variant: 'bn' },
          comparator: { method: 'baseline', variant: 'final' },
          metric: 'error',
          rule: { test: 'superiority', margin: 0.2 },
        },
      ],
    }),
  );
  return file;
}

/** The scored models of a results.json, without what depends on the machine (times). */
export function scores(results: StudyResults) {
  return results.rows
    .map(({ trainSeconds: _t, ...row }) => row)
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const readResults = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as StudyResults;

describe('onerun study', () => {
  it('runs a plan on a local pool, skips finished jobs, and reports verdicts; a Slurm array gives the same results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-'));
    const plan = tinyPlan(dir);
    const runs = join(dir, 'runs');
    const ran = await onerun(['study', 'run', plan, '--runs', runs, '--jobs', '2']);
    expect(ran.stderr).toMatch(/study: 3\/3 done, 0 running, 0 left/);
    expect(ran.stdout).toMatch(/3 ran, 0 already done, 0 failed/);
    expect(ran.code).toBe(0);

    const again = await onerun(['study', 'run', plan, '--runs', runs, '--quiet']);
    expect(again.stdout).toMatch(/0 ran, 3 already done/);

    const report = await onerun(['study', 'report', runs, '--plan', plan, '--json']);
    expect(report.code).toBe(0);
    const outcome = JSON.parse(report.stdout);
    expect(outcome.claims[0]).toMatchObject({ id: '1', n: 2 });
    const results = readResults(join(runs, 'results.json'));
    expect(results.jobs.map((j) => j.name)).toEqual([
      'mlp-b2-s0-core',
      'mlp-b2-s10-core',
      'mlp-b2-s0-deep',
    ]);
    const variants = results.rows
      .filter((r) => r.seed === 0)
      .map((r) => `${r.method}/${r.variant}`);
    expect(variants).toEqual(
      expect.arrayContaining([
        'baseline/final',
        'swa/bn',
        'swa/stale-bn',
        'swa/budget-1.5',
        'swa/sgd-1.5',
        'deep-ensemble/ensemble',
      ]),
    );
    const html = readFileSync(join(runs, 'report.html'), 'utf8');
    expect(html.indexOf('Verdicts')).toBeLessThan(html.indexOf('Test metrics'));
    expect(readFileSync(join(runs, 'summary.md'), 'utf8')).toMatch(/\| 1 +\| SWA beats SGD +\|/);

    // The Slurm script's body, run by a loop that sets SLURM_ARRAY_TASK_ID as Slurm would.
    const slurmRuns = join(dir, 'slurm-runs');
    const script = join(dir, 'study.sbatch');
    const wrote = await onerun(['study', 'slurm', plan, '--runs', slurmRuns, '--out', script]);
    expect(wrote.code).toBe(0);
    const text = readFileSync(script, 'utf8');
    expect(text).toMatch(/^#SBATCH --array=0-1$/m);
    expect(text).toMatch(/--dependency=afterok:\$jid --array=2-2/);
    for (let task = 0; task < 3; task++)
      execFileSync('bash', [script], {
        env: { ...process.env, SLURM_ARRAY_TASK_ID: String(task) },
        stdio: 'pipe',
      });
    expect((await onerun(['study', 'report', slurmRuns, '--plan', plan])).code).toBe(0);
    expect(scores(readResults(join(slurmRuns, 'results.json')))).toEqual(scores(results));
  }, 900_000);

  it('reproduces the Results v2 verdicts from the committed results.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'v2-'));
    const report = await onerun([
      'study',
      'report',
      '--plan',
      join(__dirname, '../studies/results-v2.json'),
      '--from',
      join(__dirname, '../../../docs/results.json'),
      '--out',
      out,
      '--json',
    ]);
    expect(report.code).toBe(0);
    const verdicts = Object.fromEntries(
      JSON.parse(report.stdout).claims.map((c: { id: string; verdict: string }) => [
        c.id,
        c.verdict,
      ]),
    );
    expect(verdicts).toEqual({
      '1': 'holds',
      '2': 'holds',
      '4': 'not resolvable at this scale',
      '5': 'holds',
      '6': 'holds',
      '7': 'not resolvable at this scale',
      '8': 'not resolvable at this scale',
      '9': 'holds',
      '10': 'holds',
      '11': 'holds',
      '12.mlp': 'holds',
      '12.cnn': 'holds',
      '13.1': 'holds',
      '13.2': 'holds',
      '13.4': 'does not hold: equivalent within ±0.2',
      '13.7': 'not resolvable at this scale',
    });
    // docs/RESULTS.md, as committed: claim 2's line as `study report` writes it.
    expect(readFileSync(join(__dirname, '../../../docs/RESULTS.md'), 'utf8')).toMatch(
      /\| 2 +\| SSE ensemble beats one SGD run of the same budget +\| lower error than a single model trained at the same cost \(Huang et al\.\) +\| -0\.54 \[-0\.70, -0\.38\] pp \(error\) +\| 10\/10 +\|/,
    );
  });

  it('refuses a bad plan with exit 2, naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-bad-'));
    const file = join(dir, 'plan.json');
    writeFileSync(
      file,
      JSON.stringify({
        onerunStudy: 1,
        name: 'x',
        data: { name: 'synthetic' },
        model: 'mlp',
        groups: [],
        claims: [],
      }),
    );
    const r = await onerun(['study', 'run', file, '--runs', join(dir, 'runs')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plan\.json: \/groups: must NOT have fewer than 1 items/);
  });
});
