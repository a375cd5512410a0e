import {
  BACKEND_CANDIDATES,
  type BackendPreference,
  fusedTrainingInEffect,
  selectBackend,
} from '@onerun/backend';
import { appDir } from './app-dir.js';
import { UsageError } from './errors.js';
import type { BackendRecord } from './training/config.js';

/**
 * `TF_NUM_INTRAOP_THREADS` as the user gave it, read before `selectBackend` writes the value in
 * force there (TensorFlow reads only the environment).
 */
export const USER_INTRAOP_THREADS = process.env.TF_NUM_INTRAOP_THREADS;

/** Backend preferences the CLI accepts: `auto` or one of `@onerun/backend`'s candidates. */
export const BACKEND_NAMES = ['auto', ...BACKEND_CANDIDATES.map((c) => c.backend)] as const;

/**
 * Picks the tfjs backend with `@onerun/backend`'s `selectBackend` (for `auto` the fastest one
 * present: tfjs-node-gpu, tfjs-node, wasm with its training kernels, cpu) and returns what was
 * chosen (with the TensorFlow version and thread pools on the native backends, and the fused
 * training paths in effect) and why each better one was skipped, for printing and for the run's
 * `config.json`. The native packages are resolved from the app's folder; TensorFlow's
 * informational log lines are silenced unless `TF_CPP_MIN_LOG_LEVEL` is set.
 * An explicit choice that is not available rejects with `BackendUnavailableError`.
 */
export async function chooseBackend(preference: string): Promise<BackendRecord> {
  if (!(BACKEND_NAMES as readonly string[]).includes(preference)) {
    throw new UsageError(
      `Unknown backend '${preference}'; use --backend with one of ${BACKEND_NAMES.join(', ')}.`,
    );
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const chosen = await selectBackend(preference as BackendPreference, { resolveFrom: appDir() });
  return {
    requested: preference,
    backend: chosen.backend,
    package: chosen.package,
    ...(chosen.tensorflowVersion !== undefined
      ? { tensorflowVersion: chosen.tensorflowVersion }
      : {}),
    threads: chosen.threads,
    ...(chosen.nativeThreads !== undefined ? { nativeThreads: chosen.nativeThreads } : {}),
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
      ? `${record.threads} thread${record.threads === 1 ? '' : 's'}`
      : undefined,
    record.fusedTraining !== undefined ? `fused ${record.fusedTraining.join('/')}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}
