import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSnapshotStore } from '@onerun/snapshots';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { onerun, onerunHere, SMALL, startOnerun } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onerun-resume-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readProgress(dir: string) {
  try {
    return JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Weights of the snapshot of each kind in a run folder, as plain arrays. */
async function weightsByKind(dir: string): Promise<Map<string, Float32Array[]>> {
  const store = new FileSnapshotStore(join(dir, 'snapshots'));
  const out = new Map<string, Float32Array[]>();
  for (const entry of await store.list()) {
    const model = await store.load(entry.id);
    out.set(
      entry.tags?.kind ?? entry.id,
      await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array)),
    );
    model.dispose();
  }
  return out;
}

it('a train killed mid-run (SIGKILL) resumes and ends with the weights of an uninterrupted run', async () => {
  // Averaging from epoch 2 of 6, so the kill after epoch 3 or later also cuts the averager.
  const args = [
    'train',
    ...SMALL,
    '--method',
    'swa',
    '--epochs',
    '6',
    '--swa-start',
    '0.34',
    '--batch-size',
    '32',
  ];
  const cut = join(root, 'cut');
  const full = join(root, 'full');
  const child = startOnerun([...args, '--out', cut]);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const uninterrupted = onerun([...args, '--out', full]);
  // Kill it once it has checkpointed a few epochs but long before the end.
  let killedAt: number | undefined;
  for (let i = 0; i < 1200 && killedAt === undefined; i++) {
    const p = await readProgress(cut);
    if ((p?.checkpoint?.epoch ?? 0) >= 3) {
      child.kill('SIGKILL');
      killedAt = p.checkpoint.epoch;
    } else {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await exited;
  expect(killedAt).toBeDefined();
  const mid = await readProgress(cut);
  expect(mid.status).toBe('running');
  expect(mid.checkpoint.epoch).toBeLessThan(6);
  expect(mid.checkpoint.averager).toMatch(/^averager-\d+\.json$/);

  const resumed = await onerun(['train', '--out', cut, '--backend', 'cpu', '--quiet', '--json']);
  expect(resumed.code, resumed.stderr).toBe(0);
  const outcome = JSON.parse(resumed.stdout);
  expect(outcome.resumedFrom).toBeGreaterThanOrEqual(3);
  expect((await uninterrupted).code).toBe(0);

  const a = await weightsByKind(full);
  const b = await weightsByKind(cut);
  expect([...b.keys()].sort()).toEqual(['sgd', 'swa', 'swa-stale-bn']);
  for (const [kind, weights] of a) {
    const other = b.get(kind) as Float32Array[];
    expect(other).toHaveLength(weights.length);
    weights.forEach((w, i) => {
      let worst = 0;
      for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k]! - other[i]![k]!));
      expect(worst, `${kind} weight ${i}`).toBeLessThan(1e-5);
    });
  }
  const [pa, pb] = [await readProgress(full), await readProgress(cut)];
  expect(pb.history.map((h: { trainLoss: number }) => h.trainLoss)).toEqual(
    pa.history
      .map((h: { trainLoss: number }) => h.trainLoss)
      .map((x: number) => expect.closeTo(x, 5)),
  );
  expect(pb.collections.map((c: { step: number }) => c.step)).toEqual(
    pa.collections.map((c: { step: number }) => c.step),
  );
});

it('a resumed run says so at the start, named by its own method (not the --method default)', async () => {
  const dir = join(root, 'fge-resumed');
  const first = await onerunHere([
    'train',
    ...SMALL,
    '--method',
    'fge',
    '--epochs',
    '5',
    '--cycles',
    '2',
    '--out',
    dir,
  ]);
  expect(first.code, first.stderr).toBe(0);
  // Interrupted after epoch 4: the run's progress points at its older checkpoint, unfinished.
  const progress = JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8'));
  const older = (await new FileSnapshotStore(join(dir, 'checkpoints')).list()).find(
    (e) => e.epoch === 4,
  );
  expect(older).toBeDefined();
  await writeFile(
    join(dir, 'progress.json'),
    JSON.stringify({
      ...progress,
      status: 'running',
      checkpoint: { id: older!.id, step: older!.step + 1, epoch: 4 },
    }),
  );
  // The README's form: only --out. Not quiet, so the progress lines (stderr, no terminal) show.
  const r = await onerun(['train', '--data', 'synthetic', '--backend', 'cpu', '--out', dir]);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toBe('fge: resumed from the checkpoint after epoch 4 of 5');
  expect(lines[1]).toMatch(/^fge epoch 5\/5: loss /);
  expect(r.stderr).not.toMatch(/\bsse\b/);
  expect(r.stdout).toMatch(/^fge \(/);
});
