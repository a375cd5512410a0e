import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onerunHere, SMALL } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-eval-runs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const train = async (name: string, extra: string[]) => {
  const out = join(root, name);
  const r = await onerunHere(['train', ...SMALL, '--epochs', '2', '--out', out, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return out;
};

describe('onerun eval DIR DIR… (a deep ensemble of runs)', () => {
  it("scores each run's final model as its own eval does, and their ensemble", async () => {
    const dirs = [
      await train('b0', ['--method', 'baseline', '--seed', '0']),
      await train('b1', ['--method', 'baseline', '--seed', '1']),
      await train('s2', ['--method', 'sse', '--cycles', '2', '--seed', '2']),
    ];
    const r = await onerunHere(['eval', ...dirs, '--backend', 'cpu', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runs } = JSON.parse(r.stdout);
    expect(runs.members.map((m: { seed: number }) => m.seed)).toEqual([0, 1, 2]);
    // The baselines' only member is their result; SSE contributes its last snapshot.
    for (const [i, dir] of dirs.slice(0, 2).entries()) {
      const own = JSON.parse(
        (await onerunHere(['eval', dir, '--backend', 'cpu', '--json'])).stdout,
      );
      expect(runs.members[i].nll).toBeCloseTo(own.metrics.result.nll, 6);
      expect(runs.members[i].accuracy).toBeCloseTo(own.metrics.result.accuracy, 6);
    }
    const sse = JSON.parse(
      (await onerunHere(['eval', dirs[2] as string, '--backend', 'cpu', '--json'])).stdout,
    );
    expect(runs.members[2].nll).toBeCloseTo(sse.metrics.members.at(-1).nll, 6);
    // Averaging probabilities: the ensemble's NLL is at most the members' mean NLL (Jensen).
    const meanNll =
      runs.members.reduce((s: number, m: { nll: number }) => s + m.nll, 0) / runs.members.length;
    expect(runs.ensemble.nll).toBeLessThanOrEqual(meanNll + 1e-9);
    expect(runs.sizeCurve.map((p: { k: number }) => p.k)).toEqual([1, 2, 3]);
    expect(runs.sizeCurve[0].nll).toBeCloseTo(runs.members[0].nll, 6);
    expect(runs.sizeCurve[2].nll).toBeCloseTo(runs.ensemble.nll, 6);
    const table = await onerunHere(['eval', ...dirs, '--backend', 'cpu']);
    expect(table.stdout).toMatch(/^ensemble of 3 runs\s+\d+\.\d+%/m);
  });

  it('refuses runs of different architectures, naming both', async () => {
    const mlp = join(root, 'b0');
    const cnn = await train('cnn', [
      '--method',
      'baseline',
      '--model',
      'cnn',
      '--train-limit',
      '32',
      '--test-limit',
      '16',
    ]);
    const r = await onerunHere(['eval', mlp, cnn, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/trained cnn .* but .* trained mlp .*one architecture/);
  });
});
