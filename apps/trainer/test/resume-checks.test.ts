// Issue 28, defect 7: a resume refuses other data (the content hash recorded in config.json) and
// another backend unless --allow-backend-change, which is recorded.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../src/data/idx.js';
import { DATA_DIR_ENV } from '../src/data/locate.js';
import { onerunHere } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-resume-checks-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A tiny MNIST-style set of 6×6 images whose pixels depend on `seed` (same shapes for every seed). */
async function idxSet(name: string, seed: number): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const n = 40;
  const images = Uint8Array.from({ length: n * 36 }, (_, k) => (k * 31 + seed * 97) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i + seed) % 10);
  await writeFile(join(dir, 'train-images-idx3-ubyte'), encodeIdx([n, 6, 6], images));
  await writeFile(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([n], labels));
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), encodeIdx([n, 6, 6], images));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([n], labels));
  return dir;
}

const args = (out: string, extra: string[] = []) => [
  'train',
  '--data',
  'mnist',
  '--method',
  'baseline',
  '--epochs',
  '2',
  '--batch-size',
  '20',
  '--quiet',
  '--out',
  out,
  ...extra,
];

/** `onerun args…` in this process with `$ONERUN_DATA_DIR` set to `dataDir`. */
async function withDataDir(dataDir: string, argv: string[]) {
  const before = process.env[DATA_DIR_ENV];
  process.env[DATA_DIR_ENV] = dataDir;
  try {
    return await onerunHere(argv);
  } finally {
    if (before === undefined) delete process.env[DATA_DIR_ENV];
    else process.env[DATA_DIR_ENV] = before;
  }
}

/** Marks a finished run as unfinished (as if killed before its final steps). */
async function unfinish(dir: string): Promise<void> {
  const path = join(dir, 'progress.json');
  const progress = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify({ ...progress, status: 'running' }));
  await rm(join(dir, 'metrics.json'));
}

describe('a resume checks what it resumes with', () => {
  let run: string;
  let dataA: string;
  beforeAll(async () => {
    dataA = await idxSet('data-a', 1);
    run = join(root, 'run');
    const r = await withDataDir(dataA, args(run, ['--backend', 'cpu']));
    expect(r.code, r.stderr).toBe(0);
  });

  it('defect 7: the data content hash is recorded; other data of the same shapes is refused', async () => {
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    expect(config.dataHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const dir = join(root, 'other-data');
    await cp(run, dir, { recursive: true });
    await unfinish(dir);
    const dataB = await idxSet('data-b', 2);
    const r = await withDataDir(dataB, args(dir, ['--backend', 'cpu']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`was trained on data with content hash ${config.dataHash}`);
    expect(r.stderr).toContain(dataB);
    // The same data under another folder name is the same data.
    const copyOfA = join(root, 'data-a-copy');
    await cp(dataA, copyOfA, { recursive: true });
    const same = await withDataDir(copyOfA, args(dir, ['--backend', 'cpu']));
    expect(same.code, same.stderr).toBe(0);
  });

  it('defect 7: another backend is refused unless --allow-backend-change, which is recorded', async () => {
    const dir = join(root, 'other-backend');
    await cp(run, dir, { recursive: true });
    await unfinish(dir);
    const refused = await withDataDir(dataA, args(dir, ['--backend', 'wasm']));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/trained on the cpu backend, not wasm.*--allow-backend-change/);
    const allowed = await withDataDir(
      dataA,
      args(dir, ['--backend', 'wasm', '--allow-backend-change']),
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.backend.backend).toBe('cpu');
    expect(config.backendChanges).toEqual([
      { atEpoch: 2, from: 'cpu', to: 'wasm', at: expect.any(String) },
    ]);
  });
});

describe('a resume cross-checks its state', () => {
  const swaArgs = (out: string) => [
    'train',
    '--data',
    'synthetic',
    '--backend',
    'cpu',
    '--quiet',
    '--method',
    'swa',
    '--epochs',
    '4',
    '--swa-start',
    '0.25',
    '--batch-size',
    '64',
    '--train-limit',
    '128',
    '--test-limit',
    '32',
    '--out',
    out,
  ];
  let swaRun: string;
  beforeAll(async () => {
    swaRun = join(root, 'swa');
    const r = await onerunHere(swaArgs(swaRun));
    expect(r.code, r.stderr).toBe(0);
  });

  it("defect 6: progress.json's checkpoint epoch that disagrees with the checkpoint's own record is refused", async () => {
    const dir = join(root, 'epoch-flip');
    await cp(swaRun, dir, { recursive: true });
    await unfinish(dir);
    const path = join(dir, 'progress.json');
    const progress = JSON.parse(await readFile(path, 'utf8'));
    const id = progress.checkpoint.id;
    progress.checkpoint.epoch -= 2;
    await writeFile(path, JSON.stringify(progress));
    const r = await onerunHere(swaArgs(dir));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`progress.json records checkpoint ${id} after epoch 2`);
  });

  it('defect 5: both averager states deleted never resume with an empty averager', async () => {
    const dir = join(root, 'no-averager');
    await cp(swaRun, dir, { recursive: true });
    await unfinish(dir);
    const metrics = JSON.parse(await readFile(join(swaRun, 'metrics.json'), 'utf8'));
    await rm(join(dir, 'averager'), { recursive: true });
    const r = await onerunHere(swaArgs(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cannot be used.*no averager state|the run starts over/);
    // It started over: the same run as the uninterrupted one, not an average of fewer models.
    const again = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'));
    expect(again.result).toEqual(metrics.result);
  });
});
