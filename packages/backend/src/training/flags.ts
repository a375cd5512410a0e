import { InvalidArgumentError } from '@onerun/core';

/**
 * The fused training paths, each of which can be turned off on its own. A path is used only on
 * a backend it has a kernel registered for (see `registerFusedTraining`).
 */
export interface FusedTrainingFlags {
  /**
   * Batch normalization in training mode as one kernel forward (statistics, normalization,
   * scale and shift) and one backward (`FusedBatchNormV3` / `FusedBatchNormGradV2` on the native
   * backend) instead of tfjs-layers' `moments` + `batchNorm` and their composed gradients.
   */
  batchNorm: boolean;
  /** The ReLU gradient as TensorFlow's `ReluGrad` (one kernel) instead of `dy · step(x)`. */
  reluGrad: boolean;
  /**
   * A dense layer's training-mode product, bias and ReLU as one kernel (`MatMul`, `BiasAdd`,
   * `Relu` on the native backend) whose gradient runs rank-2 products without reshapes, and
   * only those a variable needs, instead of tfjs's fused `matMul` and its gradient.
   */
  dense: boolean;
  /**
   * Categorical cross-entropy (a model compiled with `'categoricalCrossentropy'`, or
   * `categoricalCrossentropy` of this package) as one kernel forward and one backward instead of
   * some twenty tfjs kernels: the same formula, normalization and clipping included.
   */
  crossEntropy: boolean;
}

/** The names of the fused paths, as `ONERUN_FUSED_TRAINING` takes them. */
export const FUSED_TRAINING_PATHS = ['batchNorm', 'reluGrad', 'dense', 'crossEntropy'] as const;

/**
 * The environment variable that sets the fused paths at load: `0`/`off`/`none` turns all of them
 * off, `1`/`on`/`all` (or unset) leaves all on, a comma list (`batchNorm`) keeps only those.
 */
export const FUSED_TRAINING_ENV = 'ONERUN_FUSED_TRAINING';

// One switchboard for every copy of this package in the process (ESM and CJS builds, nested
// installs): the patched layer and the gradients read it on every call.
const KEY = Symbol.for('@onerun/backend/fused-training-flags');
type Holder = { [KEY]?: FusedTrainingFlags };

/** Reads a value of `ONERUN_FUSED_TRAINING` (see {@link FUSED_TRAINING_ENV}). */
export function parseFusedTraining(value: string | undefined): FusedTrainingFlags {
  const all = (on: boolean): FusedTrainingFlags => ({
    batchNorm: on,
    reluGrad: on,
    dense: on,
    crossEntropy: on,
  });
  const text = (value ?? '').trim();
  if (text === '' || /^(1|on|all|true)$/i.test(text)) return all(true);
  if (/^(0|off|none|false)$/i.test(text)) return all(false);
  const flags = all(false);
  for (const name of text.split(',').map((s) => s.trim())) {
    if (!(FUSED_TRAINING_PATHS as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(
        FUSED_TRAINING_ENV,
        value,
        `0, 1 or a comma list of ${FUSED_TRAINING_PATHS.join(', ')}`,
      );
    }
    flags[name as keyof FusedTrainingFlags] = true;
  }
  return flags;
}

/** The fused training paths in force now (initially from `ONERUN_FUSED_TRAINING`). */
export function fusedTrainingFlags(): FusedTrainingFlags {
  const holder = globalThis as Holder;
  holder[KEY] ??= parseFusedTraining(process.env[FUSED_TRAINING_ENV]);
  return holder[KEY];
}

/**
 * Turns fused training paths on or off for the whole process, from the next training step on
 * (models need not be rebuilt). Returns the flags now in force.
 */
export function setFusedTraining(flags: Partial<FusedTrainingFlags> | boolean): FusedTrainingFlags {
  const current = fusedTrainingFlags();
  const next =
    typeof flags === 'boolean'
      ? { batchNorm: flags, reluGrad: flags, dense: flags, crossEntropy: flags }
      : { ...current, ...flags };
  (globalThis as Holder)[KEY] = next;
  return next;
}
