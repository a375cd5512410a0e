export {
  type Batch,
  type BatchElement,
  type DataSource,
  type DatasetLike,
  exampleCount,
  firstTensor,
  type Inputs,
  iterateBatches,
  type OwnedBatch,
  shuffledSource,
  toBatch,
} from './batches.js';
export {
  DisposedError,
  describeValue,
  InvalidArgumentError,
  NonFiniteError,
  OnerunError,
  UnsupportedEnvironmentError,
  WeightMismatchError,
} from './errors.js';
export { batchNormLayers, isBatchNormLayer, type Layer, walkLayers } from './layers.js';
export { type Random, seededRandom, shuffledIndices } from './random.js';
export {
  requireFinite,
  requireInRange,
  requireInteger,
  requireNonNegative,
  requirePositive,
} from './validate.js';
export {
  assertAllFinite,
  assertSameWeights,
  countParameters,
  firstNonFinite,
  modelVariables,
  readWeights,
  tensorSpecs,
  type WeightSelection,
  type WeightSpec,
  weightSpecs,
  writeWeights,
} from './weights.js';
