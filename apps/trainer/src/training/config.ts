import { requireInRange, requireInteger, requirePositive } from '@onerun/core';
import { parseDataName, type SyntheticOptions } from '../data/load.js';
import { UsageError } from '../errors.js';
import { parseModelName } from '../models/registry.js';

/** The training methods of the three papers, plus the plain baseline. */
export const METHOD_NAMES = ['baseline', 'sse', 'fge', 'swa'] as const;
/** One of `METHOD_NAMES`. */
export type MethodName = (typeof METHOD_NAMES)[number];

/** Checks a method name from the command line. */
export function parseMethodName(value: string): MethodName {
  if ((METHOD_NAMES as readonly string[]).includes(value)) return value as MethodName;
  throw new UsageError(
    `Unknown method '${value}'; use --method with one of ${METHOD_NAMES.join(', ')}.`,
  );
}

/** The backend a run used, as `@onerun/backend` reported it. */
export interface BackendRecord {
  requested: string;
  backend: string;
  package?: string;
  /** On the native backends: the TensorFlow library's version (`TF_Version()`). */
  tensorflowVersion?: string;
  /** Threads the backend computes with (absent in run folders written before it was recorded). */
  threads?: number;
  /** On the native backends: TensorFlow's intra-op and inter-op thread pools. */
  nativeThreads?: { intraOp: number; interOp: number };
  /**
   * Who chose the intra-op pool: `--threads`, `TF_NUM_INTRAOP_THREADS`, or the app from the model
   * (one thread for dense-bound models, one per core otherwise; split between `compare` workers).
   */
  threadsChosenBy?: 'flag' | 'environment' | 'model';
  /** `@onerun/backend`'s fused training paths on when the backend was chosen (none: absent). */
  fusedTraining?: string[];
  skipped: { backend: string; reason: string }[];
}

/** Everything that defines a training run; written to `config.json` in its folder. */
export interface RunConfig {
  method: MethodName;
  /** A built-in model (`mlp`, `cnn`, `preresnet<depth>`) or the absolute path of a model file. */
  model: string;
  /** A named data set (`fashion-mnist`, `mnist`, `synthetic`) or the absolute path of data. */
  data: string;
  /** `--data-dir` as given (resolved folder is recorded in `dataSource`). */
  dataDir?: string;
  /** `--data PATH` images: the size every image is resized to, `[h, w]`. */
  imageSize?: [number, number];
  /** `--data PATH` without a test part: the fraction of each class held out as test. */
  testSplit?: number;
  /** CSV: the label column's name or number. */
  labelColumn?: string;
  trainLimit?: number;
  testLimit?: number;
  valSplit: number;
  synthetic?: SyntheticOptions;
  epochs: number;
  batchSize: number;
  /** Peak learning rate of the method's schedule (SGD with momentum). */
  lr: number;
  momentum: number;
  /** L2 weight decay on kernels: the loss gets `weightDecay/2 · Σ‖W‖²`. */
  weightDecay: number;
  /** SSE: number of cycles M (snapshots); FGE: number of cycles in the collection phase. */
  cycles: number;
  /** SSE: the peak rate α0 of each cosine cycle (default `lr`). */
  sseLr: number;
  /** FGE: fraction of the epochs trained with the standard schedule before collecting. */
  pretrainFraction: number;
  /**
   * FGE: the length of one triangular cycle in epochs (fractions allowed); when set, the
   * collection phase holds as many whole cycles as fit and `cycles` is not used.
   */
  fgeCycleEpochs?: number;
  /** FGE: the large and small rates of the triangular cycle. */
  fgeLr1: number;
  fgeLr2: number;
  /** SWA: fraction of the epochs before averaging starts, and the constant SWA rate. */
  swaStartFraction: number;
  swaLr: number;
  /** SWA: fold the weights into the average every this many updates, or once per epoch. */
  swaEvery: number | 'epoch';
  /**
   * SWA: also fit SWAG (Maddox et al. 2019) with this many deviation columns K (0: off); `eval`
   * scores the Bayesian model average of `swagSamples` draws, batch norm recomputed for each.
   */
  swagRank: number;
  swagSamples: number;
  /**
   * SWA: epochs before the last at which the SWA model is also saved and scored (batch norm
   * recomputed, and with stale statistics; SWAG too when fitted) — the SWA paper's budgets 1 and
   * 1.25 inside a run trained to 1.5. Training goes on from the SGD iterate, unchanged.
   */
  swaScoreAt?: number[];
  /** Test (and validation) metrics after every this many epochs and after the last; 0: only after the last. */
  evalEvery: number;
  /** The comparison budget this run belongs to, when it trains longer (SWA at 1.5 budgets). */
  budget?: number;
  seed: number;
}

/** The knobs a caller may leave out, with their defaults (derived from `lr` where relative). */
export type RunConfigInput = Pick<RunConfig, 'method' | 'model' | 'data' | 'epochs'> &
  Partial<Omit<RunConfig, 'method' | 'model' | 'data' | 'epochs'>>;

/** Default SSE cycles and FGE cycles. */
export const DEFAULT_CYCLES: Record<MethodName, number> = { baseline: 1, sse: 5, fge: 4, swa: 1 };

/** Fills defaults and validates ranges; throws `UsageError`/`InvalidArgumentError` on bad input. */
export function resolveConfig(input: RunConfigInput): RunConfig {
  const lr = requirePositive('lr', input.lr ?? 0.05);
  const config: RunConfig = {
    // Checked here too: a config.json edited by hand reaches this without the CLI's parsers.
    method: parseMethodName(String(input.method)),
    model: parseModelName(String(input.model)),
    data: parseDataName(String(input.data)),
    ...(input.dataDir !== undefined ? { dataDir: input.dataDir } : {}),
    ...(input.imageSize !== undefined ? { imageSize: input.imageSize } : {}),
    ...(input.testSplit !== undefined
      ? { testSplit: requireInRange('testSplit', input.testSplit, 0.01, 0.9) }
      : {}),
    ...(input.labelColumn !== undefined ? { labelColumn: input.labelColumn } : {}),
    ...(input.trainLimit !== undefined
      ? { trainLimit: requireInteger('trainLimit', input.trainLimit, 1) }
      : {}),
    ...(input.testLimit !== undefined
      ? { testLimit: requireInteger('testLimit', input.testLimit, 1) }
      : {}),
    valSplit: requireInRange('valSplit', input.valSplit ?? 0, 0, 0.5),
    ...(input.synthetic !== undefined ? { synthetic: input.synthetic } : {}),
    epochs: requireInteger('epochs', input.epochs, 1),
    batchSize: requireInteger('batchSize', input.batchSize ?? 128, 1),
    lr,
    momentum: requireInRange('momentum', input.momentum ?? 0.9, 0, 0.999),
    weightDecay: requireInRange('weightDecay', input.weightDecay ?? 5e-4, 0, 1),
    cycles: requireInteger('cycles', input.cycles ?? DEFAULT_CYCLES[input.method], 1),
    sseLr: requirePositive('sseLr', input.sseLr ?? lr),
    pretrainFraction: requireInRange('pretrainFraction', input.pretrainFraction ?? 0.8, 0, 1),
    ...(input.fgeCycleEpochs !== undefined
      ? { fgeCycleEpochs: requirePositive('fgeCycleEpochs', input.fgeCycleEpochs) }
      : {}),
    fgeLr1: requirePositive('fgeLr1', input.fgeLr1 ?? lr / 2),
    fgeLr2: requirePositive('fgeLr2', input.fgeLr2 ?? lr / 20),
    swaStartFraction: requireInRange('swaStartFraction', input.swaStartFraction ?? 0.75, 0, 1),
    swaLr: requirePositive('swaLr', input.swaLr ?? lr / 2),
    swaEvery:
      input.swaEvery === undefined || input.swaEvery === 'epoch'
        ? 'epoch'
        : requireInteger('swaEvery', input.swaEvery, 1),
    swagRank: requireInteger('swagRank', input.swagRank ?? 0, 0),
    swagSamples: requireInteger('swagSamples', input.swagSamples ?? 30, 1),
    ...(input.swaScoreAt !== undefined && input.swaScoreAt.length > 0
      ? { swaScoreAt: scoreEpochs(input.swaScoreAt, input.epochs) }
      : {}),
    evalEvery: requireInteger('evalEvery', input.evalEvery ?? 1, 0),
    ...(input.budget !== undefined ? { budget: requireInteger('budget', input.budget, 1) } : {}),
    seed: requireInRange('seed', requireInteger('seed', input.seed ?? 0, 0), 0, 2 ** 32 - 1),
  };
  if (config.fgeLr2 >= config.fgeLr1) {
    throw new UsageError(
      `FGE's small rate --fge-lr2 ${config.fgeLr2} must be below its large rate --fge-lr1 ${config.fgeLr1} (the cycle goes large → small → large).`,
    );
  }
  return config;
}

/** `--swa-score-at`: distinct epochs in 1…epochs − 1, ascending. */
function scoreEpochs(epochs: number[], total: number): number[] {
  for (const e of epochs) requireInteger('swaScoreAt', e, 1);
  const bad = epochs.find((e) => e >= total);
  if (bad !== undefined) {
    throw new UsageError(
      `--swa-score-at ${bad} is not before the last epoch; give epochs in 1…${total - 1} (the SWA model at the end is always scored).`,
    );
  }
  return [...new Set(epochs)].sort((a, b) => a - b);
}

/**
 * A start point given as an epoch (an integer in [1, epochs − 1]) or as a fraction of the epochs
 * (in (0, 1)), as the fraction the config stores; `flag` names the option in the error.
 */
export function startFraction(flag: string, value: number, epochs: number): number {
  if (value > 0 && value < 1) return value;
  if (Number.isInteger(value) && value >= 1 && value <= epochs - 1) return value / epochs;
  throw new UsageError(
    `${flag} ${value} is neither an epoch in 1…${epochs - 1} nor a fraction in (0, 1) of the ${epochs} epochs.`,
  );
}

/** The fields that must agree for two runs to share weights (resume, curves, comparisons). */
export function architectureOf(config: Pick<RunConfig, 'model' | 'data' | 'synthetic'>): string {
  const s = config.synthetic;
  if (config.data === 'synthetic')
    return `${config.model} on synthetic(${s?.size ?? 8}x${s?.size ?? 8}, ${s?.classes ?? 4} classes)`;
  if (config.data === 'fashion-mnist' || config.data === 'mnist')
    return `${config.model} on 28x28 images, 10 classes`;
  return `${config.model} on ${config.data}`;
}
