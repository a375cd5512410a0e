import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFolderError, UsageError } from '../errors.js';
import { readJsonIfExists, writeJson } from './files.js';
import { RUN_LOCK_FILE } from './lock.js';
import { ensureDir } from './out-dir.js';

/**
 * The record of what an onerun command wrote into a folder it started empty: `--force` deletes
 * the entries it names and nothing else.
 */
export const WRITTEN_FILE = '.onerun-written.json';

/** The commands that write folders of their own. */
export type WritingCommand = 'train' | 'compare' | 'report' | 'curve';

/** What `.onerun-written.json` holds. */
export interface WrittenRecord {
  onerunWritten: 1;
  command: WritingCommand;
  /** Names (directly inside the folder) the command writes; the folder was empty before. */
  entries: string[];
}

/** A temporary sibling that `writeFileAtomic` leaves behind when killed mid-write. */
const TEMP_OF = /^(.+)\.[0-9a-f]{8}\.tmp$/;

/** Entries that belong to the lock (its file, its temporaries, a stale one moved aside). */
const isLockEntry = (name: string) => name.startsWith(RUN_LOCK_FILE);

/** The folder's record, `undefined` without one; a damaged record is a `RunFolderError`. */
export async function readWritten(dir: string): Promise<WrittenRecord | undefined> {
  const record = await readJsonIfExists<Partial<WrittenRecord>>(join(dir, WRITTEN_FILE));
  if (record === undefined) return undefined;
  if (
    record.onerunWritten !== 1 ||
    typeof record.command !== 'string' ||
    !Array.isArray(record.entries) ||
    !record.entries.every((e) => typeof e === 'string' && e !== '' && !/[/\\]|^\.\.?$/.test(e))
  ) {
    throw new RunFolderError(
      `${join(dir, WRITTEN_FILE)} is not a record of what onerun wrote (expected {"onerunWritten": 1, "command", "entries"}); restore it, or move the folder's files away yourself.`,
    );
  }
  return record as WrittenRecord;
}

/**
 * Records that `command` is about to write `entries` into `dir`, which must be empty but for
 * the run lock. Call it before the first write.
 */
export async function startWritten(
  dir: string,
  command: WritingCommand,
  entries: readonly string[],
): Promise<void> {
  const foreign = (await readdir(dir)).filter((name) => !isLockEntry(name));
  if (foreign.length > 0) {
    throw new RunFolderError(
      `${dir} is not empty (${describeNames(foreign)}); onerun ${command} starts only in an empty or new folder.`,
    );
  }
  await writeJson(join(dir, WRITTEN_FILE), {
    onerunWritten: 1,
    command,
    entries: [...entries],
  } satisfies WrittenRecord);
}

function describeNames(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** Whether `name` is a recorded entry or a temporary left by an atomic write of one. */
function isRecorded(record: WrittenRecord, name: string): boolean {
  if (record.entries.includes(name)) return true;
  const temp = TEMP_OF.exec(name);
  return temp !== null && record.entries.includes(temp[1]!);
}

/** What `--force` would have to delete in `dir` that onerun did not record writing. */
async function foreignEntries(dir: string, record: WrittenRecord): Promise<string[]> {
  const foreign: string[] = [];
  for (const name of await readdir(dir)) {
    if (name === WRITTEN_FILE || isLockEntry(name)) continue;
    if (!isRecorded(record, name)) {
      foreign.push(name);
      continue;
    }
    // A recorded folder that has a record of its own (a comparison's run folder) is checked too.
    const path = join(dir, name);
    if ((await lstat(path)).isDirectory()) {
      const inner = await readWritten(path).catch(() => undefined);
      if (inner) foreign.push(...(await foreignEntries(path, inner)).map((n) => `${name}/${n}`));
    }
  }
  return foreign;
}

/**
 * `--force`: deletes what `command` recorded writing into `dir` (and the record), after checking
 * that nothing else is there. A folder without a record, with another command's record, or
 * holding anything onerun did not write is refused with a `RunFolderError` that names what it
 * found, and nothing is deleted.
 */
export async function clearWritten(dir: string, command: WritingCommand): Promise<void> {
  const record = await readWritten(dir);
  if (!record) {
    throw new RunFolderError(
      `${dir} has no record of what onerun wrote into it (${WRITTEN_FILE}: made by an older onerun, or not by onerun); onerun ${command} --force deletes only files it recorded writing. Move the folder's files away yourself, or choose another --out.`,
    );
  }
  if (record.command !== command) {
    throw new RunFolderError(
      `${dir} was written by onerun ${record.command}, not onerun ${command}; choose another --out.`,
    );
  }
  const foreign = await foreignEntries(dir, record);
  if (foreign.length > 0) {
    throw new RunFolderError(
      `${dir} holds files onerun did not write (${describeNames(foreign)}); onerun ${command} --force deletes only files it recorded writing. Move them away, or choose another --out.`,
    );
  }
  for (const name of await readdir(dir)) {
    if (name === WRITTEN_FILE || isLockEntry(name) || !isRecorded(record, name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
  await rm(join(dir, WRITTEN_FILE), { force: true });
}

/**
 * Refuses a folder in which any of `names` is a symbolic link: onerun writes only inside the
 * folder it was given, never through a link to somewhere else.
 */
export async function assertNoLinks(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const path = join(dir, name);
    try {
      if ((await lstat(path)).isSymbolicLink()) {
        throw new RunFolderError(
          `${path} is a symbolic link; onerun writes only into files and folders inside ${dir}. Remove the link (or replace it by a real folder).`,
        );
      }
    } catch (error) {
      if (error instanceof RunFolderError) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Readies `dir` as the output folder of `command` (report, curve): a new or empty folder is
 * started (its record written); a folder this command wrote before is replaced only with
 * `--force` (and then only what it recorded); anything else (a run folder, another command's
 * output, a folder of the user's) is refused, `--force` or not.
 */
export async function prepareOwnOut(
  dir: string,
  command: WritingCommand,
  entries: readonly string[],
  force: boolean,
): Promise<void> {
  await assertNoLinks(dir, entries);
  const { dir: folder } = await ensureDir(dir);
  const names = (await readdir(folder)).filter((name) => !isLockEntry(name));
  if (names.length === 0) return startWritten(folder, command, entries);
  const record = await readWritten(folder);
  if (record?.command === command) {
    if (!force) {
      throw new UsageError(
        `${folder} holds the output of an earlier onerun ${command}; choose another --out, or pass --force to replace it.`,
      );
    }
    await clearWritten(folder, command);
    return startWritten(folder, command, entries);
  }
  throw new UsageError(
    record
      ? `${folder} was written by onerun ${record.command}; onerun ${command} writes into a folder of its own: choose another --out (an empty or new folder).`
      : `${folder} is not empty and onerun did not write it (${describeNames(names)}); choose another --out (an empty or new folder).`,
  );
}
