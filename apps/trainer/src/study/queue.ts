import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../run-folder/files.js';
import { expandPlan, type StudyJob } from './jobs.js';
import { loadPlan, type StudyPlan, validatePlan } from './plan.js';
import { poolEnv, runChild } from './pool.js';
import { progressLine } from './progress.js';
import { isDone } from './run-one.js';

/** The BullMQ queue every `onerun worker` of a Redis takes study jobs from (unless named). */
export const DEFAULT_QUEUE = 'onerun-study';

/** What a queued job carries: the plan itself (workers need no copy of the file) and the job. */
export interface QueuedJob {
  plan: StudyPlan;
  planHash: string;
  name: string;
  index: number;
}

/** What a worker reports through the queue while a job trains. */
export interface JobProgress {
  worker: string;
  /** Epochs trained so far over all the job's methods, and in all. */
  epochs: number;
  startedAt: string;
}

/** `redis://[:password@]host:port[/db]` → ioredis options (BullMQ's workers need no retry cap). */
export function redisConnection(url: string) {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--queue ${url}: expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new UsageError(`--queue ${url}: expected redis://HOST:PORT`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** A short hash of the plan: jobs of the same plan share it, so enqueueing twice adds nothing. */
export function planHash(plan: StudyPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 12);
}

/** The BullMQ job id of a study job (stable: a second enqueue of the same plan is a no-op). */
export const queueJobId = (hash: string, name: string) => `${hash}.${name}`;

/**
 * Enqueues the plan's jobs not finished under `runs` (when given) on the Redis at `url`: deep
 * ensembles after the jobs they need. Returns the ids. Jobs already in the queue are not added
 * again (BullMQ keeps one job per id).
 */
export async function enqueuePlan(options: {
  plan: StudyPlan;
  url: string;
  queueName?: string;
  runs?: string;
}): Promise<{ ids: string[]; skipped: string[] }> {
  const hash = planHash(options.plan);
  const jobs = expandPlan(options.plan);
  const skipped = options.runs
    ? jobs.filter((j) => isDone(resolve(options.runs as string), j.name)).map((j) => j.name)
    : [];
  const queue = new Queue<QueuedJob>(options.queueName ?? DEFAULT_QUEUE, {
    connection: redisConnection(options.url),
  });
  try {
    const todo = jobs.filter((j) => !skipped.includes(j.name));
    await queue.addBulk(
      todo.map((j) => ({
        name: j.name,
        data: { plan: options.plan, planHash: hash, name: j.name, index: j.index },
        opts: {
          jobId: queueJobId(hash, j.name),
          // A job that fails (a bad option, a run folder held by a duplicate delivery) is tried
          // again later; its run folder keeps what the last attempt trained.
          attempts: 5,
          backoff: { type: 'exponential', delay: 10_000 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    return { ids: todo.map((j) => queueJobId(hash, j.name)), skipped };
  } finally {
    await queue.close();
  }
}

/**
 * Waits until every job in `ids` is completed or has failed for good, reporting a progress line
 * (done, running, left, ETA) as it changes. Resolves with the failed ones.
 */
export async function waitForJobs(options: {
  url: string;
  queueName?: string;
  ids: string[];
  workers?: number;
  progress?: (line: string) => void;
  pollMs?: number;
}): Promise<{ failed: { name: string; message: string }[] }> {
  const queue = new Queue<QueuedJob>(options.queueName ?? DEFAULT_QUEUE, {
    connection: redisConnection(options.url),
  });
  let last = '';
  try {
    for (;;) {
      let done = 0;
      let running = 0;
      const failed: { name: string; message: string }[] = [];
      const seconds: number[] = [];
      for (const id of options.ids) {
        const job = await queue.getJob(id);
        if (!job) continue;
        const state = await job.getState();
        if (state === 'completed') {
          done++;
          if (job.processedOn && job.finishedOn)
            seconds.push((job.finishedOn - job.processedOn) / 1000);
        } else if (state === 'active') running++;
        else if (state === 'failed') failed.push({ name: job.name, message: job.failedReason });
      }
      const line = progressLine({
        total: options.ids.length,
        done,
        running,
        failed: failed.length,
        seconds,
        workers: Math.max(1, options.workers ?? running),
      });
      if (line !== last) options.progress?.(line);
      last = line;
      if (done + failed.length === options.ids.length) return { failed };
      await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
    }
  } finally {
    await queue.close();
  }
}

/** Epochs trained so far in a job's run folders (their `progress.json`). */
async function epochsTrained(runs: string, name: string, methods: string[]): Promise<number> {
  let epochs = 0;
  for (const method of methods) {
    try {
      const p = JSON.parse(await readFile(join(runs, name, method, 'progress.json'), 'utf8')) as {
        history?: unknown[];
      };
      epochs += p.history?.length ?? 0;
    } catch {
      // Not started yet.
    }
  }
  return epochs;
}

/**
 * `onerun worker`: takes study jobs from the queue and runs each as `onerun study run-one` in a
 * child process into `runs` (a folder every worker shares), `concurrency` at a time, reporting
 * the epochs trained through the queue. A worker that dies mid-job stops renewing the job's lock;
 * after `lockMs` BullMQ's stalled-job check gives the job to another worker, which resumes it from
 * the run folder's checkpoints. A duplicate delivery of a job another live process trains meets
 * the run-folder lock and is tried again later; a finished job is skipped. Resolves when `stop`
 * is called (the worker finishes its jobs first).
 */
export function startWorker(options: {
  url: string;
  runs: string;
  queueName?: string;
  concurrency?: number;
  lockMs?: number;
  log?: (line: string) => void;
}): { worker: Worker<QueuedJob>; stop: () => Promise<void> } {
  const runs = resolve(options.runs);
  const concurrency = options.concurrency ?? 1;
  const env = poolEnv(concurrency);
  const me = `${hostname()}:${process.pid}`;
  const lockMs = options.lockMs ?? 30_000;
  const worker = new Worker<QueuedJob>(
    options.queueName ?? DEFAULT_QUEUE,
    async (job: Job<QueuedJob>, token?: string) => {
      const plan = validatePlan(job.data.plan, `queued plan ${job.data.planHash}`);
      const studyJob = expandPlan(plan).find((j) => j.name === job.data.name) as
        | StudyJob
        | undefined;
      if (!studyJob) throw new Error(`${job.data.name} is not a job of the queued plan`);
      await mkdir(join(runs, '.plans'), { recursive: true });
      const planFile = join(runs, '.plans', `${job.data.planHash}.json`);
      await writeFileAtomic(planFile, `${JSON.stringify(plan, null, 2)}\n`);
      const startedAt = new Date().toISOString();
      const methods = plan.groups.find((g) => g.id === studyJob.group)?.methods ?? [];
      const report = async () => {
        const progress: JobProgress = {
          worker: me,
          epochs: await epochsTrained(runs, studyJob.name, methods),
          startedAt,
        };
        await job.updateProgress(progress as unknown as object).catch(() => undefined);
      };
      const ticker = setInterval(report, 10_000);
      options.log?.(`worker ${me}: ${studyJob.name} (attempt ${job.attemptsMade + 1})`);
      let result: Awaited<ReturnType<typeof runChild>>;
      try {
        result = await runChild(planFile, runs, studyJob, env);
      } finally {
        clearInterval(ticker);
      }
      if (result.ok) {
        await report();
        options.log?.(`worker ${me}: ${studyJob.name} done`);
        return { worker: me };
      }
      if (result.waiting) {
        // A deep ensemble whose members are not all trained yet: look again in a while.
        await job.moveToDelayed(Date.now() + 5_000, token);
        throw new DelayedError();
      }
      options.log?.(`worker ${me}: ${studyJob.name} failed: ${result.message}`);
      throw new Error(result.message);
    },
    {
      connection: redisConnection(options.url),
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job stalls when its worker dies; let it be taken again a few times before failing.
      maxStalledCount: 10,
    },
  );
  worker.on('error', (error) => options.log?.(`worker ${me}: ${error.message}`));
  return { worker, stop: () => worker.close() };
}

/** Loads a plan and checks the URL before anything is queued. */
export function planForQueue(file: string, url: string): StudyPlan {
  redisConnection(url);
  return loadPlan(file);
}
