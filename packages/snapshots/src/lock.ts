import { SnapshotLockError } from './errors.js';
import { errorCode, type NodeModules } from './node.js';

/** Name of the writer lock file in a store's folder. */
export const LOCK_FILE = '.lock';

interface Holder {
  pid: number;
  hostname: string;
  token: string;
  createdAt: string;
}

/** Tokens of the locks this process holds right now (a lock with our pid but another token is stale). */
const heldTokens = new Set<string>();
/** Serializes writers of this process per folder, before they compete for the file lock. */
const inProcess = new Map<string, Promise<void>>();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function readHolder(node: NodeModules, path: string): Promise<Holder | null | 'gone'> {
  try {
    const parsed = JSON.parse(await node.fs.readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return null;
    return parsed as Holder;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    return null;
  }
}

/**
 * Whether the lock's holder is certainly gone: a process on this host that no longer runs, or a
 * lock with this process's pid that this process does not hold (left by an earlier process that
 * had the same pid). Locks from other hosts are never judged stale.
 */
function isStale(node: NodeModules, holder: Holder): boolean {
  if (holder.hostname !== node.os.hostname()) return false;
  if (holder.pid === process.pid) return !heldTokens.has(holder.token);
  return !alive(holder.pid);
}

/**
 * Moves a stale lock aside. If, between our check and the move, the stale lock was already
 * replaced by a live one, the live one is put back (link fails if yet another appeared).
 */
async function steal(node: NodeModules, lockPath: string, stale: Holder): Promise<void> {
  const aside = `${lockPath}.stale-${node.crypto.randomUUID()}`;
  try {
    await node.fs.rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readHolder(node, aside);
  if (moved !== null && moved !== 'gone' && moved.token !== stale.token) {
    await node.fs.link(aside, lockPath).catch(() => undefined);
  }
  await node.fs.rm(aside, { force: true });
}

/**
 * Runs `fn` while holding the store's writer lock: first a per-folder queue inside this
 * process, then the `.lock` file, created atomically (`link` of a complete temporary file, so
 * its content is never seen half-written). A lock whose holder is gone (see `isStale`) is taken
 * over; a live one is waited for up to `timeoutMs`.
 */
export async function withWriterLock<T>(
  node: NodeModules,
  dir: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const previous = inProcess.get(dir) ?? Promise.resolve();
  let releaseQueue!: () => void;
  const mine = new Promise<void>((resolve) => {
    releaseQueue = resolve;
  });
  const tail = previous.then(() => mine);
  inProcess.set(dir, tail);
  await previous;
  try {
    const release = await acquire(node, dir, timeoutMs);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    releaseQueue();
    if (inProcess.get(dir) === tail) inProcess.delete(dir);
  }
}

async function acquire(
  node: NodeModules,
  dir: string,
  timeoutMs: number,
): Promise<() => Promise<void>> {
  const lockPath = `${dir}/${LOCK_FILE}`;
  const holder: Holder = {
    pid: process.pid,
    hostname: node.os.hostname(),
    token: node.crypto.randomUUID(),
    createdAt: new Date().toISOString(),
  };
  const content = JSON.stringify(holder);
  const temp = `${lockPath}.${holder.token}.tmp`;
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  heldTokens.add(holder.token);
  try {
    for (;;) {
      await node.fs.writeFile(temp, content, { flag: 'w' });
      try {
        await node.fs.link(temp, lockPath);
        await node.fs.rm(temp, { force: true });
        break;
      } catch (error) {
        // ENOENT: a writer cleaning leftovers removed our temporary file; write it again.
        if (errorCode(error) === 'ENOENT') continue;
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const current = await readHolder(node, lockPath);
      if (current === 'gone') continue;
      if (current !== null && isStale(node, current)) {
        await steal(node, lockPath, current);
        continue;
      }
      if (Date.now() > deadline) {
        await node.fs.rm(temp, { force: true });
        throw new SnapshotLockError(
          lockPath,
          current === null
            ? `an unreadable lock file stayed for ${timeoutMs} ms`
            : `held by pid ${current.pid} on ${current.hostname} since ${current.createdAt}, ` +
                `waited ${timeoutMs} ms`,
        );
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 100);
    }
  } catch (error) {
    heldTokens.delete(holder.token);
    throw error;
  }
  return async () => {
    const current = await readHolder(node, lockPath);
    if (current !== null && current !== 'gone' && current.token === holder.token) {
      await node.fs.rm(lockPath, { force: true });
    }
    heldTokens.delete(holder.token);
  };
}
