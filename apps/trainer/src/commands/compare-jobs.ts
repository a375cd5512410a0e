import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { OnerunError } from '@onerun/core';
import { appDir } from '../app-dir.js';
import type { EpochRecord } from '../run-folder/records.js';
import type { BackendRecord, MethodName } from '../training/config.js';
import type { ProgressSink } from '../training/loop.js';
import type { CompareSettings } from './compare-settings.js';

/** What the parent sends a worker: one chain of methods to train into `dir`. */
export interface JobRequest {
  settings: CompareSettings;
  dir: string;
  methods: MethodName[];
  backend: BackendRecord;
}

/** What a worker sends back while it trains. */
export type JobMessage =
  | { type: 'begin'; method: string; info: Parameters<ProgressSink['begin']>[0] }
  | { type: 'update'; method: string; info: Parameters<ProgressSink['update']>[0] }
  | { type: 'epochEnd'; method: string; record: EpochRecord }
  | { type: 'end'; method: string }
  | { type: 'log'; line: string }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string };

/** A method's training in a worker process failed; the message is the worker's own. */
export class JobFailedError extends OnerunError {
  /** The methods that worker was training. */
  readonly methods: readonly MethodName[];

  constructor(methods: readonly MethodName[], message: string) {
    super('JOB_FAILED', `${methods.join(' + ')}: ${message}`);
    this.methods = methods;
  }
}

/**
 * Default worker count for `compare` (capped there by the number of independent chains): one per
 * core, except on a GPU, which one process fills. On the native CPU backend the workers share the
 * cores through {@link workerEnv}: independent methods in processes of fewer TensorFlow threads
 * beat one process whose ops are split over every core (measured: the quick comparison in 0.73×
 * the wall time on 2 cores).
 */
export function defaultJobs(backend: string): number {
  return backend === 'tensorflow-gpu' ? 1 : availableParallelism();
}

/**
 * The environment of each worker process. On a native backend with several workers, TensorFlow's
 * intra-op pool the parent chose is capped at `cores / jobs` threads each (at least 1), so that N
 * processes do not each start one thread per core; a pool the user gave (`--threads`,
 * `TF_NUM_INTRAOP_THREADS`) is used as given.
 */
export function workerEnv(
  backend: BackendRecord,
  jobs: number,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const chosen = backend.nativeThreads?.intraOp;
  if (chosen === undefined || jobs <= 1) return env;
  const threads =
    backend.threadsChosenBy === 'model'
      ? Math.min(chosen, Math.max(1, Math.floor(availableParallelism() / jobs)))
      : chosen;
  return { ...env, TF_NUM_INTRAOP_THREADS: String(threads) };
}

/** The worker entry, built into the app's dist/ (also when this module runs from src/). */
function workerScript(): string {
  const path = join(appDir(), 'dist', 'compare-worker.js');
  if (existsSync(path)) return path;
  throw new OnerunError(
    'WORKER_MISSING',
    `${path} is missing: build the app (pnpm --filter @onerun/trainer build) or use --jobs 1.`,
  );
}

interface Parent {
  settings: CompareSettings;
  dir: string;
  backend: BackendRecord;
  progress?: (label: string) => ProgressSink | undefined;
  log?: (line: string) => void;
}

function runJob(parent: Parent, methods: MethodName[], env: NodeJS.ProcessEnv): Promise<void> {
  const sinks = new Map<string, ProgressSink | undefined>();
  const sink = (method: string) => {
    if (!sinks.has(method)) sinks.set(method, parent.progress?.(method));
    return sinks.get(method);
  };
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(workerScript(), [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      child.kill();
      reject(error);
    };
    child.on('message', (message: JobMessage) => {
      switch (message.type) {
        case 'begin':
          sink(message.method)?.begin(message.info);
          break;
        case 'update':
          sink(message.method)?.update(message.info);
          break;
        case 'epochEnd':
          sink(message.method)?.epochEnd(message.record);
          break;
        case 'end':
          sink(message.method)?.end();
          break;
        case 'log':
          parent.log?.(message.line);
          break;
        case 'done':
          settled = true;
          resolve();
          break;
        case 'error':
          fail(new JobFailedError(methods, message.message));
          break;
      }
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (!settled)
        fail(
          new JobFailedError(
            methods,
            `worker exited (${signal ?? `code ${code}`}) before finishing${stderr ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`,
          ),
        );
    });
    const request: JobRequest = {
      settings: parent.settings,
      dir: parent.dir,
      methods,
      backend: parent.backend,
    };
    child.send(request);
  });
}

/**
 * Trains the chains of a comparison in `jobs` worker processes at a time, each chain into its
 * methods' run folders. Progress and log lines come back to the parent; the first failure stops
 * the other workers and rejects. Rerunning resumes every method from its own run folder.
 */
export async function trainInWorkers(
  parent: Parent,
  chains: MethodName[][],
  jobs: number,
): Promise<void> {
  const queue = [...chains];
  const env = workerEnv(parent.backend, jobs);
  let failure: unknown;
  const lane = async () => {
    for (let chain = queue.shift(); chain && failure === undefined; chain = queue.shift()) {
      try {
        await runJob(parent, chain, env);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, lane));
  if (failure !== undefined) throw failure;
}
