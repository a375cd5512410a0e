import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { appDir } from '../app-dir.js';
import type { StudyJob } from './jobs.js';
import { progressLine, type StudyCounts } from './progress.js';
import { isDone } from './run-one.js';

/** How `study run` went. */
export interface PoolOutcome {
  ran: string[];
  skipped: string[];
  failed: { name: string; message: string }[];
  /** Jobs never started because a job they need failed. */
  blocked: string[];
  seconds: number;
}

/**
 * Each worker's environment: TensorFlow's intra-op pool split between the `workers` (cores /
 * workers threads each, at least 1), as `compare --jobs` does; a `TF_NUM_INTRAOP_THREADS` the
 * user set wins. Only the native backends read it.
 */
export function poolEnv(workers: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (workers <= 1 || (env.TF_NUM_INTRAOP_THREADS ?? '').trim() !== '') return env;
  const threads = Math.max(1, Math.floor(availableParallelism() / workers));
  return { ...env, TF_NUM_INTRAOP_THREADS: String(threads) };
}

/** The built CLI, which each worker process runs as `onerun study run-one`. */
export function cliScript(): string {
  return join(appDir(), 'dist', 'cli.js');
}

/**
 * Runs the jobs not yet finished under `runs`, `workers` at a time, each as its own
 * `onerun study run-one PLAN --index i` process (its stderr appended to `<runs>/<name>.log`).
 * A deep ensemble starts once the jobs it needs are done. A failed job does not stop the others;
 * rerunning resumes every unfinished job from its checkpoints.
 */
export async function runPool(options: {
  planFile: string;
  runs: string;
  jobs: StudyJob[];
  workers: number;
  progress?: (line: string) => void;
}): Promise<PoolOutcome> {
  const started = performance.now();
  const runs = resolve(options.runs);
  await mkdir(runs, { recursive: true });
  const skipped = options.jobs.filter((j) => isDone(runs, j.name)).map((j) => j.name);
  const waiting = options.jobs.filter((j) => !skipped.includes(j.name));
  const done = new Set(skipped);
  const failedNames = new Set<string>();
  const outcome: PoolOutcome = { ran: [], skipped, failed: [], blocked: [], seconds: 0 };
  const counts: StudyCounts = {
    total: options.jobs.length,
    done: done.size,
    running: 0,
    failed: 0,
    seconds: [],
    workers: options.workers,
  };
  const show = () => options.progress?.(progressLine(counts));
  const env = poolEnv(options.workers);
  show();
  const ticker = setInterval(show, 60_000);
  ticker.unref();

  const next = (): StudyJob | undefined => {
    for (;;) {
      const blocked = waiting.findIndex((j) => j.needs.some((n) => failedNames.has(n)));
      if (blocked < 0) break;
      const [job] = waiting.splice(blocked, 1) as [StudyJob];
      outcome.blocked.push(job.name);
      failedNames.add(job.name);
    }
    const i = waiting.findIndex((j) => j.needs.every((n) => done.has(n)));
    return i < 0 ? undefined : waiting.splice(i, 1)[0];
  };
  const wake: (() => void)[] = [];
  const lane = async () => {
    for (;;) {
      const job = next();
      if (!job) {
        // Jobs that wait for running ones: sleep until some job ends.
        if (waiting.length === 0 || counts.running === 0) return;
        await new Promise<void>((r) => wake.push(r));
        continue;
      }
      counts.running++;
      show();
      const t0 = performance.now();
      const result = await runChild(options.planFile, runs, job, env);
      counts.running--;
      if (result.ok) {
        done.add(job.name);
        outcome.ran.push(job.name);
        counts.done++;
        counts.seconds.push((performance.now() - t0) / 1000);
      } else {
        failedNames.add(job.name);
        outcome.failed.push({ name: job.name, message: result.message });
        counts.failed++;
        options.progress?.(`study: ${job.name} failed: ${result.message}`);
      }
      show();
      for (const w of wake.splice(0)) w();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.workers) }, lane));
  } finally {
    clearInterval(ticker);
  }
  outcome.blocked.push(...waiting.map((j) => j.name));
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/** Workers still running: ended with this process (Ctrl-C, kill), so none trains on orphaned. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** How a job's process ended: done, failed (with the last error line), or waiting for its needs. */
export type ChildResult =
  | { ok: true }
  | { ok: false; message: string; waiting: boolean; code: number | null };

/** Exit status of `study run-one` when the job waits for other jobs (EX_TEMPFAIL). */
export const WAITING_EXIT = 75;

/**
 * Runs `onerun study run-one PLAN --runs DIR --index I` as a child process, its stderr appended
 * to `<runs>/<name>.log`. The child holds an IPC channel and exits when it closes, so a worker
 * killed with SIGKILL leaves no training process behind.
 */
export function runChild(
  planFile: string,
  runs: string,
  job: StudyJob,
  env: NodeJS.ProcessEnv,
): Promise<ChildResult> {
  return new Promise((resolveResult) => {
    const log = createWriteStream(join(runs, `${job.name}.log`), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [cliScript(), 'study', 'run-one', planFile, '--runs', runs, '--index', String(job.index)],
      { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    );
    running.add(child);
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-2000);
    });
    child.on('error', (error) =>
      resolveResult({ ok: false, message: error.message, waiting: false, code: null }),
    );
    child.on('close', (code, signal) => {
      running.delete(child);
      log.end();
      if (code === 0) resolveResult({ ok: true });
      else {
        const last = tail.trim().split('\n').at(-1) ?? '';
        resolveResult({
          ok: false,
          waiting: code === WAITING_EXIT,
          code,
          message: `${signal ?? `exit ${code}`}${last ? `: ${last.replace(/^onerun: error: /, '')}` : ''}; see ${join(runs, `${job.name}.log`)}`,
        });
      }
    });
  });
}
