import { BACKEND_CANDIDATES, type BackendPreference, selectBackend } from '@onerun/backend';
import type { BackendRecord } from './config.js';
import { UsageError } from './errors.js';

/** Backend preferences the CLI accepts: `auto` or one of `@onerun/backend`'s candidates. */
export const BACKEND_NAMES = ['auto', ...BACKEND_CANDIDATES.map((c) => c.backend)] as const;

/**
 * Picks the tfjs backend with `@onerun/backend`'s `selectBackend` (for `auto` the fastest one
 * present: tfjs-node-gpu, tfjs-node, wasm with its training kernels, cpu) and returns what was
 * chosen and why each better one was skipped, for printing and for the run's `config.json`.
 * An explicit choice that is not available rejects with `BackendUnavailableError`.
 */
export async function chooseBackend(preference: string): Promise<BackendRecord> {
  if (!(BACKEND_NAMES as readonly string[]).includes(preference)) {
    throw new UsageError(
      `Unknown backend '${preference}'; use --backend with one of ${BACKEND_NAMES.join(', ')}.`,
    );
  }
  const chosen = await selectBackend(preference as BackendPreference);
  return {
    requested: preference,
    backend: chosen.backend,
    package: chosen.package,
    skipped: chosen.skipped.map((s) => ({ backend: s.backend, reason: s.detail })),
  };
}
