export {
  type AveragedWeights,
  type AverageFn,
  type Averager,
  type AveragerOptions,
  type AveragerState,
  type CommonAveragerOptions,
  WeightAverager,
} from './averager.js';
export {
  type ForwardFn,
  type RecomputeBatchNormOptions,
  type RecomputeBatchNormResult,
  recomputeBatchNorm,
} from './batch-norm.js';
export {
  SwaCallback,
  type SwaCallbackOptions,
  type SwaEvery,
  type SwaFinalizeResult,
  type SwaStart,
  swaCallback,
} from './callback.js';
export {
  BatchNormInternalsError,
  BatchNormNotReachedError,
  EmptyAverageError,
  EmptyDataError,
  MissingBatchNormDataError,
} from './errors.js';
export { type SwaResult, type SwaRunOptions, swa } from './preset.js';
export { Swag, type SwagOptions, type SwagSampleOptions, type SwagState } from './swag.js';
