export { bezierCoefficients, polyChainCoefficients } from './coefficients.js';
export {
  FgeCallback,
  type FgeOptions,
  type FgeResult,
  type FgeRunOptions,
  fge,
  fgeCallback,
} from './collect.js';
export {
  type BendsInit,
  bezierCurve,
  type Curve,
  type CurveKind,
  polyChainCurve,
  straightLine,
} from './curve.js';
export {
  CURVE_FORMAT,
  CURVE_FORMAT_VERSION,
  type CurveManifest,
  decodeCurve,
  type EncodedCurve,
  encodeCurve,
} from './curve-io.js';
export { CurveFormatError } from './errors.js';
export {
  type EvaluatePathOptions,
  evaluatePath,
  type PathEvaluation,
  type PathPoint,
  type PathSummary,
  summarizePath,
} from './evaluate-path.js';
export {
  type FitCurveBatchLogs,
  type FitCurveCallbacks,
  type FitCurveEpochLogs,
  type FitCurveHistory,
  type FitCurveOptions,
  fitCurve,
} from './fit-curve.js';
export { classificationError, type LossFn } from './loss.js';
