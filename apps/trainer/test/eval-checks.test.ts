// Issue 28, defect 9: eval checks a run's store against its progress.json before scoring.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onerunHere, SMALL } from './helpers.js';

let root: string;
let run: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-eval-checks-'));
  run = join(root, 'sse');
  const r = await onerunHere([
    'train',
    ...SMALL,
    '--method',
    'sse',
    '--epochs',
    '3',
    '--cycles',
    '3',
    '--batch-size',
    '64',
    '--train-limit',
    '128',
    '--test-limit',
    '32',
    '--out',
    run,
  ]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('eval checks the store against progress.json', () => {
  it('defect 9: a member lost with the manifest is an error naming it, not a smaller ensemble', async () => {
    const dir = join(root, 'lost');
    await cp(run, dir, { recursive: true });
    await rm(join(dir, 'snapshots', 'manifest.json'));
    await rm(join(dir, 'snapshots', 'snap-000002'), { recursive: true });
    const r = await onerunHere(['eval', dir, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'snapshots')} lacks the member snap-000002`);
  });

  it('defect 9: an unfinished run is scored with a word that its ensemble is partial', async () => {
    const dir = join(root, 'unfinished');
    await cp(run, dir, { recursive: true });
    const path = join(dir, 'progress.json');
    const progress = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...progress, status: 'running' }));
    const r = await onerunHere(['eval', dir, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('is an unfinished run (3 epochs done): scoring the 3 members');
  });
});
