import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockRunFolder, RUN_LOCK_FILE, RunLockedError } from './lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onerun-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The start time the kernel records for `pid` (Linux), as the lock does. */
function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

async function writeLock(holder: Record<string, unknown>): Promise<void> {
  await writeFile(
    join(dir, RUN_LOCK_FILE),
    JSON.stringify({ hostname: hostname(), token: 'other', createdAt: 'then', ...holder }),
  );
}

describe('lockRunFolder', () => {
  it('is exclusive while held and free after release', async () => {
    const lock = await lockRunFolder(dir);
    await expect(lockRunFolder(dir)).rejects.toThrow(RunLockedError);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    await (await lockRunFolder(dir)).release();
  });

  it('refuses a live holder, takes over a lock whose pid now belongs to another process', async () => {
    const live = process.ppid;
    await writeLock({ pid: live, started: startTimeOf(live) });
    await expect(lockRunFolder(dir)).rejects.toThrow(/a live process \(pid \d+\)/);
    // Same pid, other start time: the holder died and its pid was reused.
    await writeLock({ pid: live, started: '1' });
    await (await lockRunFolder(dir)).release();
  });

  it('never takes over a lock from another host', async () => {
    await writeLock({ pid: 1, hostname: 'elsewhere.example' });
    await expect(lockRunFolder(dir)).rejects.toThrow(/on elsewhere\.example/);
  });

  it('removes the folders it created when released untouched', async () => {
    const nested = join(dir, 'a', 'b');
    await (await lockRunFolder(nested)).release();
    expect(await readdir(dir)).toEqual([]);
  });
});
