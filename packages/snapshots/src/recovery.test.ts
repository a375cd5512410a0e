import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotLockError, SnapshotReadOnlyError } from './errors.js';
import { FileSnapshotStore } from './file-store.js';
import { disposeAll, randomizeWeights, tempDir, tinyModel, weightArrays } from './test-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(String(child.stdout));
}

async function writeLock(pid: number, host = hostname()): Promise<void> {
  await writeFile(
    join(dir, '.lock'),
    JSON.stringify({ pid, hostname: host, token: 'other', createdAt: new Date(0).toISOString() }),
  );
}

describe('FileSnapshotStore after a crash', () => {
  it('a writer opening the store removes every kind of leftover and keeps what is listed', async () => {
    const model = tinyModel();
    const first = await FileSnapshotStore.open(dir);
    const kept = await first.save(model, { step: 1 });
    // What a writer killed at various points leaves behind:
    await mkdir(join(dir, '.tmp-snap-000002-abc'));
    await writeFile(join(dir, '.tmp-snap-000002-abc', 'weights.bin'), 'partial');
    await mkdir(join(dir, 'snap-000002')); // renamed into place, manifest not yet replaced
    await writeFile(join(dir, 'manifest.json.tmp-123'), '{"format":');
    await mkdir(join(dir, '.trash-snap-000000-x'));
    await writeFile(join(dir, '.lock.abc.tmp'), '{}');
    await writeLock(deadPid());
    await writeFile(join(dir, 'notes.txt'), 'not ours');

    const reader = new FileSnapshotStore(dir, { readOnly: true });
    expect(await reader.list()).toEqual([kept]); // leftovers are never listed

    const second = await FileSnapshotStore.open(dir);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'notes.txt', kept.id].sort());
    // Ids are never reused, not even the orphan's, which was never listed.
    expect((await second.save(model, { step: 2 })).id).toBe('snap-000003');
    model.dispose();
  });

  it('waits for a live writer and then gives up with SnapshotLockError', async () => {
    await FileSnapshotStore.open(dir);
    await writeLock(process.ppid); // a live process that is not us
    const store = new FileSnapshotStore(dir, { lockTimeoutMs: 150 });
    const model = tinyModel();
    await expect(store.save(model, { step: 0 })).rejects.toThrow(SnapshotLockError);
    await expect(store.save(model, { step: 0 })).rejects.toThrow(
      new RegExp(`held by pid ${process.ppid} on ${hostname()}`),
    );
    // A lock from another host is never judged stale, since its process cannot be checked.
    await writeLock(deadPid(), 'elsewhere.example');
    await expect(store.save(model, { step: 0 })).rejects.toThrow(/on elsewhere\.example/);
    expect(await store.list()).toEqual([]);
    model.dispose();
  });

  it('takes over a lock left by an earlier process with our own pid', async () => {
    await FileSnapshotStore.open(dir);
    await writeLock(process.pid);
    const store = new FileSnapshotStore(dir, { lockTimeoutMs: 150 });
    const model = tinyModel();
    expect((await store.save(model, { step: 0 })).id).toBe('snap-000001');
    model.dispose();
  });

  it('serializes concurrent writers on one folder: unique ids, every snapshot whole', async () => {
    const a = await FileSnapshotStore.open(dir);
    const b = await FileSnapshotStore.open(dir);
    const models = [1, 2, 3, 4, 5, 6].map((seed) => {
      const m = tinyModel();
      randomizeWeights(m, seed);
      return m;
    });
    const entries = await Promise.all(
      models.map((m, i) => (i % 2 === 0 ? a : b).save(m, { step: i })),
    );
    expect(new Set(entries.map((e) => e.id)).size).toBe(6);
    const listed = await a.list();
    expect(listed).toHaveLength(6);
    const probe = tinyModel();
    for (const e of listed) {
      await b.loadWeightsInto(e.id, probe);
      expect(await weightArrays(probe)).toEqual(await weightArrays(models[e.step]!));
    }
    disposeAll(probe, ...models);
  });

  it('a read-only store never writes', async () => {
    const store = new FileSnapshotStore(join(dir, 'absent'), { readOnly: true });
    expect(await store.list()).toEqual([]);
    const model = tinyModel();
    await expect(store.save(model, { step: 0 })).rejects.toThrow(SnapshotReadOnlyError);
    await expect(store.delete('snap-000001')).rejects.toThrow(SnapshotReadOnlyError);
    expect(await readdir(dir)).toEqual([]);
    model.dispose();
  });
});
