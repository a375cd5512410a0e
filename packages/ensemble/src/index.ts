// Public API of @onerun/ensemble.
export { COMBINE_RULES, type CombineRule } from './combine.js';
export {
  DEFAULT_BATCH_SIZE,
  Ensemble,
  type EnsembleEvaluation,
  type EnsembleOptions,
  type EvaluateOptions,
  type FromStoreOptions,
  type MemberMetrics,
  type PredictOptions,
  type SizeCurvePoint,
} from './ensemble.js';
export {
  LogitsUnavailableError,
  type MemberShapeKind,
  MemberShapeMismatchError,
  MixedSnapshotKindsError,
} from './errors.js';
export type { Labels } from './labels.js';
export type { LogitsFunction, MemberOutput, SnapshotSource } from './members.js';
export {
  accuracy,
  type BinOptions,
  brier,
  type ClassificationMetrics,
  classificationMetrics,
  DEFAULT_BINS,
  disagreement,
  type EpsilonOptions,
  ece,
  nll,
  PROBABILITY_EPSILON,
  type ReliabilityBin,
  reliabilityDiagram,
} from './metrics.js';
export {
  KIND_TAG,
  type ListedSnapshot,
  type SnapshotSelection,
  selectSnapshots,
} from './select.js';
