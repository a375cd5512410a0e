import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OnerunError } from '@onerun/core';
import { FileSnapshotStore } from '@onerun/snapshots';
import { RunFolderError, UsageError } from '../errors.js';
import { architectureOf, type RunConfig, resolveConfig } from '../training/config.js';
import type { RunStores } from '../training/loop.js';
import { readJsonIfExists, writeJson } from './files.js';
import { RUN_LOCK_FILE } from './lock.js';
import { ensureDir } from './out-dir.js';
import {
  assertNoLinks,
  clearWritten,
  readWritten,
  startWritten,
  type WrittenRecord,
} from './provenance.js';
import type { RunFile, RunProgress } from './records.js';

/** The files and folders of a run folder. */
export const RUN_LAYOUT = {
  config: 'config.json',
  progress: 'progress.json',
  metrics: 'metrics.json',
  metricsCsv: 'metrics.csv',
  testScores: 'test-scores.json',
  report: 'report.html',
  charts: 'charts',
  members: 'snapshots',
  checkpoints: 'checkpoints',
  averager: 'averager',
  swag: 'swag',
  tensorboard: 'tensorboard',
  branches: 'branches',
  classes: 'classes.json',
  preprocessing: 'preprocessing.json',
} as const;

/** Paths of one run folder. */
export class RunFolder {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  path(name: keyof typeof RUN_LAYOUT): string {
    return join(this.dir, RUN_LAYOUT[name]);
  }

  /**
   * `config.json`, its config completed with the defaults of options added since it was written
   * (an older folder resumes and reports as it trained).
   */
  async readRunFile(): Promise<RunFile | undefined> {
    const path = this.path('config');
    const runFile = await readJsonIfExists<RunFile>(path);
    if (!runFile) return undefined;
    try {
      if (typeof runFile.config !== 'object' || runFile.config === null) {
        throw new UsageError('it holds no "config" object');
      }
      return { ...runFile, config: resolveConfig(runFile.config) };
    } catch (error) {
      if (!(error instanceof OnerunError)) throw error;
      throw new RunFolderError(
        `${path} holds a configuration onerun cannot use (${error.message.replace(/\.$/, '')}); expected the config.json onerun wrote: restore it.`,
      );
    }
  }

  /** `config.json`, or a `RunFolderError` saying this is not a run folder. */
  async requireRunFile(): Promise<RunFile> {
    const file = await this.readRunFile();
    if (file?.onerun !== 1) {
      throw new RunFolderError(
        `${this.dir} is not an onerun run folder (no ${RUN_LAYOUT.config}); pass a folder made by 'onerun train' or 'onerun compare'.`,
      );
    }
    return file;
  }

  async readProgress(): Promise<RunProgress | undefined> {
    return readJsonIfExists<RunProgress>(this.path('progress'));
  }

  /** The stores of a run: members (all kept), checkpoints (last two kept), averager state folder. */
  stores(): RunStores {
    return {
      members: new FileSnapshotStore(this.path('members')),
      checkpoints: new FileSnapshotStore(this.path('checkpoints'), { retain: { last: 2 } }),
      averagerDir: this.path('averager'),
      swagDir: this.path('swag'),
      saveProgress: (progress) => writeJson(this.path('progress'), progress),
    };
  }

  /** The snapshot store of the members (read side). */
  members(): FileSnapshotStore {
    return new FileSnapshotStore(this.path('members'));
  }
}

/** What to do with an `--out` folder before training into it. */
export type OutDecision =
  | { kind: 'fresh' }
  | { kind: 'resume'; runFile: RunFile; progress: RunProgress | undefined }
  /** A finished run whose `metrics.json` is missing: score its stored models again. */
  | { kind: 'rescore'; runFile: RunFile; progress: RunProgress };

/** Empty but for the run lock this process holds. */
async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).every((name) => name.startsWith(RUN_LOCK_FILE));
  } catch {
    return true;
  }
}

/** What `--force` would be allowed to do here, in words for an error message. */
function forceAdvice(record: WrittenRecord | undefined): string {
  return record?.command === 'train' ? ', or pass --force to start the run over' : '';
}

/**
 * Decides between a fresh run, a resume, or an error. Nothing is deleted unless `force`, and
 * then only what `onerun train` recorded writing (`.onerun-written.json`):
 * - missing or empty folder → fresh;
 * - a finished run → error, unless `--force` (then its recorded files are deleted);
 * - an unfinished run → resume, if every option given on the command line matches its config;
 * - a damaged `config.json` → error naming it; `--force` starts over only in a folder train
 *   recorded writing;
 * - anything else → error, even with `--force`: a folder that is not recognisably a run folder
 *   is never cleared.
 */
export async function prepareOut(
  folder: RunFolder,
  options: { force: boolean; given: Partial<RunConfig> },
): Promise<OutDecision> {
  await assertNoLinks(folder.dir, Object.values(RUN_LAYOUT));
  if (!existsSync(folder.dir) || (await isEmptyDir(folder.dir))) return startFresh(folder);
  const record = await readWritten(folder.dir);
  let runFile: RunFile | undefined;
  try {
    runFile = await folder.readRunFile();
  } catch (error) {
    if (!(error instanceof RunFolderError || error instanceof UsageError)) throw error;
    if (options.force && record?.command === 'train') {
      await clearWritten(folder.dir, 'train');
      return startFresh(folder);
    }
    throw new RunFolderError(`${error.message.replace(/\.$/, '')}${forceAdvice(record)}.`);
  }
  if (runFile?.onerun !== 1 && record?.command === 'train') {
    // Killed before its config.json was written: nothing but what train recorded is there.
    await clearWritten(folder.dir, 'train');
    return startFresh(folder);
  }
  if (runFile?.onerun !== 1) {
    throw new UsageError(
      `${folder.dir} exists and is not an onerun run folder (no ${RUN_LAYOUT.config}); choose another --out (an empty or new folder).`,
    );
  }
  if (options.force) {
    await clearWritten(folder.dir, 'train');
    return startFresh(folder);
  }
  const progress = await folder.readProgress();
  if (progress?.status === 'done') {
    if (!existsSync(folder.path('metrics'))) return { kind: 'rescore', runFile, progress };
    throw new UsageError(
      `${folder.dir} already holds a finished ${runFile.config.method} run; choose another --out${forceAdvice(record) ? ', or pass --force to overwrite it' : ''}.`,
    );
  }
  assertCompatible(folder.dir, runFile, options.given, forceAdvice(record));
  return { kind: 'resume', runFile, progress };
}

/**
 * A fresh run. The record of what train writes is started by `recordFreshRun` just before the
 * first write, so that a run refused before it (bad data, a budget too small) leaves no folder.
 */
async function startFresh(folder: RunFolder): Promise<OutDecision> {
  await assertNoLinks(folder.dir, Object.values(RUN_LAYOUT));
  return { kind: 'fresh' };
}

/** Records, before a fresh run's first write, what `onerun train` writes into its folder. */
export async function recordFreshRun(folder: RunFolder): Promise<void> {
  await ensureDir(folder.dir);
  await startWritten(folder.dir, 'train', Object.values(RUN_LAYOUT));
}

/** Refuses to resume a run folder with options that contradict its config. */
function assertCompatible(
  dir: string,
  runFile: RunFile,
  given: Partial<RunConfig>,
  advice: string,
): void {
  const stored = runFile.config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const before = stored[key];
    if (JSON.stringify(before) !== JSON.stringify(value)) {
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const what =
        key === 'model' || key === 'data'
          ? `holds a run of another architecture (${architectureOf(runFile.config)})`
          : `holds an unfinished run with ${flag} ${String(before)}`;
      throw new UsageError(
        `${dir} ${what}, not ${flag} ${String(value)}; resume it without ${flag}, or choose another --out${advice}.`,
      );
    }
  }
}
