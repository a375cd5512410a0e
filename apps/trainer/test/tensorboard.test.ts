import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sseCosine } from '@onerun/schedules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onerunHere, SMALL } from './helpers.js';
import { pythonWithTensorboard, readEvents } from './tensorboard-reader.js';

let root: string;
let python: string | undefined;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-tb-'));
  python = await pythonWithTensorboard();
  if (!python) {
    // CI installs it (.ci/run); locally, say why the check is skipped.
    if (process.env.CI) throw new Error('CI needs Python with tensorboard (.ci/run installs it)');
    console.warn(
      'tensorboard.test: skipped — no Python with the tensorboard package (python3 -m venv .venv-tensorboard && .venv-tensorboard/bin/pip install tensorboard)',
    );
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('TensorBoard event files', () => {
  it('are read by TensorBoard: lr and loss per update, test metrics per epoch, the ensemble at each collection', async (ctx) => {
    if (!python) return ctx.skip();
    const out = join(root, 'sse');
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'sse',
      '--epochs',
      '4',
      '--cycles',
      '2',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const runs = await readEvents(python, join(out, 'tensorboard'));
    const sse = runs.sse!;
    // TensorBoard parses the first event's file_version 'brain.Event:2' into 2.
    expect(sse.__file_version).toBe(2);
    const progress = JSON.parse(await readFile(join(out, 'progress.json'), 'utf8'));
    const plan = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    const steps = progress.history.at(-1).step as number;
    // The learning rate at every update, as the schedule gives it (float32 in the file).
    const lr = sse['train/learning_rate']!;
    expect(lr.map(([s]) => s)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    const schedule = sseCosine({ lr0: plan.config.lr, totalSteps: steps, cycles: 2 });
    for (const [step, value] of lr) expect(value).toBeCloseTo(schedule.lrAt(step - 1), 6);
    // Cosine restarts: the rate climbs back at the start of the second cycle.
    expect(lr[steps / 2]![1]).toBeGreaterThan(lr[steps / 2 - 1]![1] * 10);
    // The training loss at every window the loop reads (its loss curve).
    expect(sse['train/loss']!.map(([s, v]) => [s, Math.fround(v)])).toEqual(
      progress.lossCurve.map((p: { step: number; loss: number }) => [p.step, Math.fround(p.loss)]),
    );
    // Test metrics after each epoch, at the epoch's last update.
    expect(sse['test/accuracy']!.map(([s, v]) => [s, Math.fround(v)])).toEqual(
      progress.history.map((e: { step: number; testAccuracy: number }) => [
        e.step,
        Math.fround(e.testAccuracy),
      ]),
    );
    // The ensemble as it stood after each collection.
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(sse['ensemble/test_accuracy']!.map(([s, v]) => [s, Math.fround(v)])).toEqual(
      metrics.sizeCurve.map((p: { k: number; accuracy: number }, i: number) => [
        metrics.members[i].step,
        Math.fround(p.accuracy),
      ]),
    );
    expect(sse['ensemble/members']!.map(([, v]) => v)).toEqual([1, 2]);
  });

  it('SWA: the average scored where the run scored it, and how many models it holds', async (ctx) => {
    if (!python) return ctx.skip();
    const out = join(root, 'swa');
    const r = await onerunHere([
      'train',
      ...SMALL,
      '--method',
      'swa',
      '--epochs',
      '4',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const swa = (await readEvents(python, join(out, 'tensorboard'))).swa!;
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    const averaged = swa['swa/models_averaged']!.map(([, v]) => v);
    expect(averaged.at(-1)).toBe(metrics.swa.averaged);
    expect(Math.fround(swa['swa/test_accuracy']!.at(-1)![1])).toBe(
      Math.fround(metrics.result.accuracy),
    );
    expect(Math.fround(swa['swa-stale-bn/test_nll']!.at(-1)![1])).toBe(
      Math.fround(metrics.swa.staleBatchNorm.nll),
    );
  });
});
