import { requireInRange, requireInteger, requirePositive } from '@onerun/core';
import type { DataName, SyntheticOptions } from './data.js';
import { UsageError } from './errors.js';
import type { ModelName } from './models.js';

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
  skipped: { backend: string; reason: string }[];
}

/** Everything that defines a training run; written to `config.json` in its folder. */
export interface RunConfig {
  method: MethodName;
  model: ModelName;
  data: DataName;
  /** `--data-dir` as given (resolved folder is recorded in `dataSource`). */
  dataDir?: string;
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
  /** FGE: fraction of the epochs trained with the standard schedule before collecting. */
  pretrainFraction: number;
  /** FGE: the large and small rates of the triangular cycle. */
  fgeLr1: number;
  fgeLr2: number;
  /** SWA: fraction of the epochs before averaging starts, and the constant SWA rate. */
  swaStartFraction: number;
  swaLr: number;
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
    method: input.method,
    model: input.model,
    data: input.data,
    ...(input.dataDir !== undefined ? { dataDir: input.dataDir } : {}),
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
    momentum: requireInRange('momentum', input.momentum ?? 0.9, 0, 1),
    weightDecay: requireInRange('weightDecay', input.weightDecay ?? 5e-4, 0, 1),
    cycles: requireInteger('cycles', input.cycles ?? DEFAULT_CYCLES[input.method], 1),
    pretrainFraction: requireInRange('pretrainFraction', input.pretrainFraction ?? 0.8, 0, 1),
    fgeLr1: requirePositive('fgeLr1', input.fgeLr1 ?? lr / 2),
    fgeLr2: requirePositive('fgeLr2', input.fgeLr2 ?? lr / 20),
    swaStartFraction: requireInRange('swaStartFraction', input.swaStartFraction ?? 0.75, 0, 1),
    swaLr: requirePositive('swaLr', input.swaLr ?? lr / 2),
    seed: requireInteger('seed', input.seed ?? 0, 0),
  };
  return config;
}

/** The fields that must agree for two runs to share weights (resume, curves, comparisons). */
export function architectureOf(config: Pick<RunConfig, 'model' | 'data' | 'synthetic'>): string {
  const s = config.synthetic;
  return config.data === 'synthetic'
    ? `${config.model} on synthetic(${s?.size ?? 8}x${s?.size ?? 8}, ${s?.classes ?? 4} classes)`
    : `${config.model} on 28x28 images, 10 classes`;
}
