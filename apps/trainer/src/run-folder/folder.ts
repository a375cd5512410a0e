import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileSnapshotStore } from '@onerun/snapshots';
import { RunFolderError, UsageError } from '../errors.js';
import { architectureOf, type RunConfig, resolveConfig } from '../training/config.js';
import type { RunStores } from '../training/loop.js';
import { readJsonIfExists, writeJson } from './files.js';
import { RUN_LOCK_FILE } from './lock.js';
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
    const runFile = await readJsonIfExists<RunFile>(this.path('config'));
    return runFile ? { ...runFile, config: resolveConfig(runFile.config) } : undefined;
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

  /** Removes everything `onerun` writes into a run folder (other files are left alone). */
  async clear(): Promise<void> {
    for (const name of Object.values(RUN_LAYOUT)) {
      await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/** What to do with an `--out` folder before training into it. */
export type OutDecision =
  | { kind: 'fresh' }
  | { kind: 'resume'; runFile: RunFile; progress: RunProgress | undefined };

/** Empty but for the run lock this process holds. */
async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).every((name) => name.startsWith(RUN_LOCK_FILE));
  } catch {
    return true;
  }
}

/**
 * Decides between a fresh run, a resume, or an error, without touching anything unless `force`:
 * - missing or empty folder → fresh;
 * - a finished run → error, unless `--force` (then it is cleared);
 * - an unfinished run → resume, if every option given on the command line matches its config;
 * - anything else in the folder → error, unless `--force`.
 */
export async function prepareOut(
  folder: RunFolder,
  options: { force: boolean; given: Partial<RunConfig> },
): Promise<OutDecision> {
  if (!existsSync(folder.dir) || (await isEmptyDir(folder.dir))) return { kind: 'fresh' };
  let runFile: RunFile | undefined;
  let damaged = false;
  try {
    runFile = await folder.readRunFile();
  } catch (error) {
    // A run folder whose config.json is damaged: --force starts it over.
    if (!(options.force && error instanceof RunFolderError)) throw error;
    damaged = true;
  }
  if (runFile?.onerun !== 1 && !damaged) {
    // --force only ever deletes what a run wrote: never the files of a folder that is not one.
    throw new UsageError(
      `${folder.dir} exists and is not an onerun run folder (no ${RUN_LAYOUT.config}); choose another --out (an empty or new folder).`,
    );
  }
  if (options.force || !runFile) {
    await folder.clear();
    return { kind: 'fresh' };
  }
  const progress = await folder.readProgress();
  if (progress?.status === 'done') {
    throw new UsageError(
      `${folder.dir} already holds a finished ${runFile.config.method} run; pass --force to overwrite it, or choose another --out.`,
    );
  }
  assertCompatible(folder.dir, runFile, options.given);
  return { kind: 'resume', runFile, progress };
}

/** Refuses to resume a run folder with options that contradict its config. */
function assertCompatible(dir: string, runFile: RunFile, given: Partial<RunConfig>): void {
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
        `${dir} ${what}, not ${flag} ${String(value)}; resume it without ${flag}, choose another --out, or pass --force to start over.`,
      );
    }
  }
}
