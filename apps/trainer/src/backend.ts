import {
  BACKEND_CANDIDATES,
  type BackendPreference,
  fusedTrainingInEffect,
  selectBackend,
} from '@onerun/backend';
import { appDir } from './app-dir.js';
import { UsageError } from './errors.js';
import { chooseIntraOpThreads, type ThreadsSource } from './threads.js';
import type { BackendRecord } from './training/config.js';

/**
 * `TF_NUM_INTRAOP_THREADS` as the user gave it, read before `selectBackend` writes the value in
 * force there (TensorFlow reads only the environment).
 */
export const USER_INTRAOP_THREADS = process.env.TF_NUM_INTRAOP_THREADS;

/** Backend preferences the CLI accepts: `auto` or one of `@onerun/backend`'s candidates. */
export const BACKEND_NAMES = ['auto', ...BACKEND_CANDIDATES.map((c) => c.backend)] as const;

/** What the command knows when it picks the backend. */
export interface BackendOptions {
  /** `--threads`: TensorFlow's intra-op pool, over the environment and the model's choice. */
  threads?: number;
  /** The model being trained, whose kind (dense- or conv-bound) picks the intra-op pool. */
  model?: string;
  /**
   * Who chose `threads` when it was chosen elsewhere (a `compare` worker gets the pool its parent
   * picked, as `threads`).
   */
  threadsSource?: ThreadsSource;
  /** `--verbose`: TensorFlow's own log lines (`TF_CPP_MIN_LOG_LEVEL=0` unless the user set it). */
  verbose?: boolean;
}

/**
 * Picks the tfjs backend with `@onerun/backend`'s `selectBackend` (for `auto` the fastest one
 * present: tfjs-node-gpu, tfjs-node, wasm with its training kernels, cpu) and returns what was
 * chosen (with the TensorFlow version and thread pools on the native backends, and the fused
 * training paths in effect) and why each better one was skipped, for printing and for the run's
 * `config.json`. The native packages are resolved from the app's folder; TensorFlow's
 * log lines are silenced unless `--verbose` or the user's `TF_CPP_MIN_LOG_LEVEL` asks for them.
 * TensorFlow's intra-op pool: see {@link chooseIntraOpThreads}.
 * An explicit choice that is not available rejects with `BackendUnavailableError`.
 */
export async function chooseBackend(
  preference: string,
  options: BackendOptions = {},
): Promise<BackendRecord> {
  if (!(BACKEND_NAMES as readonly string[]).includes(preference)) {
    throw new UsageError(
      `Unknown backend '${preference}'; use --backend with one of ${BACKEND_NAMES.join(', ')}.`,
    );
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= options.verbose ? '0' : '2';
  const intraOp = chooseIntraOpThreads({
    ...(options.threads !== undefined ? { flag: options.threads } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
    env: USER_INTRAOP_THREADS,
  });
  const threadsSource = options.threadsSource ?? intraOp.source;
  const chosen = await selectBackend(preference as BackendPreference, {
    resolveFrom: appDir(),
    nativeThreads: { intraOp: intraOp.threads },
  });
  const native = chosen.nativeThreads !== undefined;
  return {
    requested: preference,
    backend: chosen.backend,
    package: chosen.package,
    ...(chosen.tensorflowVersion !== undefined
      ? { tensorflowVersion: chosen.tensorflowVersion }
      : {}),
    threads: chosen.threads,
    ...(native ? { nativeThreads: chosen.nativeThreads, threadsChosenBy: threadsSource } : {}),
    ...fusedPaths(),
    skipped: chosen.skipped.map((s) => ({ backend: s.backend, reason: s.detail })),
  };
}

/** The fused training paths in effect on the chosen backend (none: absent). */
function fusedPaths(): { fusedTraining?: string[] } {
  const paths = fusedTrainingInEffect();
  return paths.length > 0 ? { fusedTraining: paths } : {};
}

/** `@tensorflow/tfjs-node, TensorFlow 2.21.0, 2 threads`: what a run's backend was, for people. */
export function backendDetails(record: BackendRecord): string {
  return [
    record.package,
    record.tensorflowVersion !== undefined ? `TensorFlow ${record.tensorflowVersion}` : undefined,
    record.threads !== undefined
      ? `${record.threads} thread${record.threads === 1 ? '' : 's'}${threadsSourceNote(record)}`
      : undefined,
    record.fusedTraining !== undefined ? `fused ${record.fusedTraining.join('/')}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}

const SOURCE_NOTES = {
  flag: ' (--threads)',
  environment: ' (TF_NUM_INTRAOP_THREADS)',
  model: ' (for the model)',
} as const;

function threadsSourceNote(record: BackendRecord): string {
  return record.threadsChosenBy !== undefined ? SOURCE_NOTES[record.threadsChosenBy] : '';
}
