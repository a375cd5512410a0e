import * as onerunBackend from '@onerun/backend';
import * as tf from '@tensorflow/tfjs';
import type { BackendRecord } from './config.js';
import { UsageError } from './errors.js';

/** Backend preferences the CLI accepts (`@onerun/backend`'s names). */
export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

interface Selection {
  backend: string;
  package?: string;
  skipped: { backend: string; reason: string }[];
}
type SelectBackend = (preference: string) => Promise<Selection>;

/**
 * Picks the tfjs backend with `@onerun/backend`'s `selectBackend` (fastest present first for
 * `auto`; wasm with its training kernels) and reports what was chosen and why others were not.
 */
export async function chooseBackend(preference: string): Promise<BackendRecord> {
  if (!(BACKEND_NAMES as readonly string[]).includes(preference)) {
    throw new UsageError(
      `Unknown backend '${preference}'; use --backend with one of ${BACKEND_NAMES.join(', ')}.`,
    );
  }
  const select = (onerunBackend as unknown as { selectBackend?: SelectBackend }).selectBackend;
  if (select) {
    const chosen = await select(preference);
    return {
      requested: preference,
      backend: chosen.backend,
      ...(chosen.package ? { package: chosen.package } : {}),
      skipped: chosen.skipped,
    };
  }
  // Until @onerun/backend exports selectBackend: the pure-JS backend that is always present.
  const wanted = preference === 'auto' ? 'cpu' : preference;
  if (!(await tf.setBackend(wanted))) {
    throw new UsageError(`Backend '${preference}' is not available here; use --backend cpu.`);
  }
  await tf.ready();
  return {
    requested: preference,
    backend: tf.getBackend(),
    skipped: [{ backend: 'others', reason: '@onerun/backend selectBackend not available' }],
  };
}
