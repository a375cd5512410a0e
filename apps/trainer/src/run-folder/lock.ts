import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OnerunError } from '@onerun/core';
import { ensureDir } from './out-dir.js';

/** Name of the lock file a running `train` keeps in its run folder. */
export const RUN_LOCK_FILE = '.onerun.lock';

/** Another live process is training into the same run folder. */
export class RunLockedError extends OnerunError {
  readonly lockFile: string;

  constructor(lockFile: string, detail: string) {
    super(
      'RUN_LOCKED',
      `${lockFile}: ${detail}; expected no other onerun process in this run folder (wait for it ` +
        'to end, or choose another --out).',
    );
    this.lockFile = lockFile;
  }
}

interface Holder {
  pid: number;
  hostname: string;
  token: string;
  /** The holder's start time as the kernel records it (Linux), to tell a reused pid apart. */
  started?: string;
  createdAt: string;
}

/** Field 22 of `/proc/<pid>/stat` (start time in clock ticks since boot), where there is one. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A live pid that started at another time is a new process that reused the number.
  const started = startTimeOf(holder.pid);
  return holder.started === undefined || started === undefined || started === holder.started;
}

async function readHolder(path: string): Promise<Holder | 'gone' | 'unreadable'> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return 'unreadable';
    return parsed as Holder;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
}

/** A held run-folder lock. */
export interface RunLock {
  release(): Promise<void>;
}

/**
 * Takes the run folder's exclusive lock (creating the folder if needed), or throws
 * `RunLockedError` at once when a live process holds it. The lock file is created atomically
 * (`link` of a complete temporary file). A lock whose process is gone (killed, crashed, or a pid
 * since reused by another program) is taken over: it is renamed aside and checked, so of two
 * processes taking over the same stale lock only one wins. The lock is also removed when the
 * process exits through `process.exit` (the CLI's signal handlers). `release` also removes the
 * folders it created if they are still empty.
 */
export async function lockRunFolder(dir: string): Promise<RunLock> {
  const { dir: folder, created } = await ensureDir(dir);
  const path = join(folder, RUN_LOCK_FILE);
  const holder: Holder = {
    pid: process.pid,
    hostname: hostname(),
    token: randomUUID(),
    ...(startTimeOf(process.pid) !== undefined ? { started: startTimeOf(process.pid) } : {}),
    createdAt: new Date().toISOString(),
  };
  const temp = `${path}.${holder.token}.tmp`;
  try {
    for (let attempt = 0; ; attempt++) {
      await writeFile(temp, JSON.stringify(holder), { flag: 'w' });
      try {
        await link(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readHolder(path);
      if (current === 'gone') continue;
      if (current === 'unreadable') {
        throw new RunLockedError(path, 'the lock file cannot be read (remove it if no run is on)');
      }
      if (current.hostname !== holder.hostname) {
        throw new RunLockedError(
          path,
          `held by pid ${current.pid} on ${current.hostname} since ${current.createdAt} (another host: not checked)`,
        );
      }
      if (alive(current) || attempt >= 5) {
        throw new RunLockedError(
          path,
          `a live process (pid ${current.pid}) has trained here since ${current.createdAt}`,
        );
      }
      await takeOver(path, current);
    }
  } finally {
    await rm(temp, { force: true });
  }
  const onExit = () => {
    try {
      const now = JSON.parse(readFileSync(path, 'utf8')) as Holder;
      if (now.token === holder.token) unlinkSync(path);
    } catch {
      // Gone already, or not ours.
    }
  };
  process.once('exit', onExit);
  return {
    async release() {
      process.off('exit', onExit);
      const now = await readHolder(path);
      if (now !== 'gone' && now !== 'unreadable' && now.token === holder.token) {
        await rm(path, { force: true });
      }
      // A run that failed before writing anything leaves no folder behind.
      for (const made of created.reverse()) await rmdir(made).catch(() => undefined);
    },
  };
}

/** Moves a stale lock aside; puts it back if it was replaced by a live one in the meantime. */
async function takeOver(path: string, stale: Holder): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readHolder(aside);
  if (moved !== 'gone' && moved !== 'unreadable' && moved.token !== stale.token) {
    await link(aside, path).catch(() => undefined);
  }
  await rm(aside, { force: true });
}
