import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { OnerunError } from '@onerun/core';
import { appDir } from '../app-dir.js';
import { readJsonIfExists, writeJson } from '../run-folder/files.js';
import type { StudyJob } from './jobs.js';

/** What a finished job leaves beside its run folder: `<runs>/<name>.job.json`. */
export interface JobRecord {
  name: string;
  index: number;
  command: string[];
  commit: string;
  host: string;
  seconds: number;
  finished: string;
}

/** A job failed; the message is the command's own error. */
export class StudyJobError extends OnerunError {
  readonly job: string;
  readonly exitCode: number;

  constructor(job: string, exitCode: number, message: string) {
    super('STUDY_JOB_FAILED', `${job}: ${message}`);
    this.job = job;
    this.exitCode = exitCode;
  }
}

/** A deep ensemble's member jobs are not all finished yet. */
export class JobNeedsPendingError extends OnerunError {
  readonly pending: readonly string[];

  constructor(job: string, pending: string[]) {
    super('STUDY_JOB_WAITING', `${job} waits for ${pending.join(', ')} to finish`);
    this.pending = pending;
  }
}

/** The record file of job `name`. */
export function recordPath(runs: string, name: string): string {
  return join(runs, `${name}.job.json`);
}

/** Whether job `name` has finished (its record exists). */
export function isDone(runs: string, name: string): boolean {
  return existsSync(recordPath(runs, name));
}

/** The app's git commit, or `unknown` outside a checkout. */
export function appCommit(): string {
  try {
    return execFileSync('git', ['-C', appDir(), 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** Runs `onerun` with `args` in this process; resolves with its stdout, rejects with its error. */
export type RunCli = (args: string[]) => Promise<{ code: number; out: string; err: string }>;

/**
 * Runs one job into `<runs>/<name>` (the `compare` resumes what an interrupted attempt left:
 * its run folders keep their checkpoints; the run-folder lock turns a second process on the same
 * job away), then writes its record. A finished job is left as it is: `skipped`.
 */
export async function runStudyJob(
  job: StudyJob,
  runs: string,
  runCli: RunCli,
): Promise<{ skipped: boolean; record?: JobRecord }> {
  const root = resolve(runs);
  const existing = await readJsonIfExists<JobRecord>(recordPath(root, job.name));
  if (existing) return { skipped: true, record: existing };
  const pending = job.needs.filter((name) => !isDone(root, name));
  if (pending.length > 0) throw new JobNeedsPendingError(job.name, pending);
  const dir = join(root, job.name);
  const args =
    job.kind === 'compare'
      ? [...job.args, '--out', dir, '--json', '--quiet']
      : [
          ...job.args,
          ...job.needs.map((name) => join(root, name, 'baseline')),
          '--json',
          '--quiet',
        ];
  const started = performance.now();
  const result = await runCli(args);
  if (result.code !== 0) {
    const message = result.err.trim().split('\n').at(-1) ?? `exit ${result.code}`;
    throw new StudyJobError(job.name, result.code, message.replace(/^onerun: error: /, ''));
  }
  if (job.kind === 'deep-ensemble') await writeJson(join(dir, 'eval.json'), JSON.parse(result.out));
  const record: JobRecord = {
    name: job.name,
    index: job.index,
    command: ['onerun', ...args.filter((a) => a !== '--json' && a !== '--quiet')],
    commit: appCommit(),
    host: hostname(),
    seconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
  };
  await writeJson(recordPath(root, job.name), record);
  return { skipped: false, record };
}
