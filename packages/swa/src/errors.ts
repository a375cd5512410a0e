import { OnerunError } from '@onerun/core';

/**
 * An average was asked of an averager (`WeightAverager`, `Swag`) that has folded in nothing.
 * `what` names the call, e.g. `'Swag.sample'`; the message names the object too.
 */
export class EmptyAverageError extends OnerunError {
  constructor(what: string) {
    const owner = what.split('.')[0];
    super(
      'EMPTY_AVERAGE',
      `${what}: the ${owner} holds no weights yet; expected at least one update(model) first.`,
    );
  }
}

/** A data source for a batch-norm recompute yielded no examples. */
export class EmptyDataError extends OnerunError {
  constructor(argument: string) {
    super(
      'EMPTY_DATA',
      `Invalid ${argument}: it yielded no batches; expected at least one example to recompute ` +
        'batch-norm statistics from.',
    );
  }
}

/**
 * Averaged weights were requested for a model with batch-norm layers, but no data was given to
 * recompute their moving statistics (and the user did not opt out with `allowStaleBatchNorm`).
 */
export class MissingBatchNormDataError extends OnerunError {
  /** Names of the model's batch-norm layers. */
  readonly layers: string[];

  constructor(layers: string[]) {
    super(
      'MISSING_BATCH_NORM_DATA',
      `The model has ${layers.length} batch-norm layer(s) (${layers.slice(0, 4).join(', ')}` +
        `${layers.length > 4 ? ', …' : ''}) whose moving statistics do not match averaged ` +
        'weights; expected bnData to recompute them, or allowStaleBatchNorm: true to keep the ' +
        'current statistics on purpose.',
    );
    this.layers = layers;
  }
}

/** Some batch-norm layers saw no input during a recompute pass (a `forward` that skips them). */
export class BatchNormNotReachedError extends OnerunError {
  /** Names of the layers that received no input. */
  readonly layers: string[];

  constructor(layers: string[]) {
    super(
      'BATCH_NORM_NOT_REACHED',
      `Batch-norm layer(s) ${layers.map((l) => `'${l}'`).join(', ')} received no input during ` +
        'the recompute pass; expected the forward pass to run every layer being recomputed ' +
        '(or pass `layers` to recompute only some). No statistics were written.',
    );
    this.layers = layers;
  }
}

/**
 * A batch-norm layer lacks the tfjs-layers internals `recomputeBatchNorm` reads and writes (its
 * `axis`, `epsilon`, `movingMean`, `movingVariance` and `call`, private in tfjs-layers' typings):
 * a tfjs-layers other than the tested 4.22.x, or a layer that only looks like `BatchNormalization`.
 */
export class BatchNormInternalsError extends OnerunError {
  /** The layer's name. */
  readonly layer: string;
  /** The members it lacks. */
  readonly missing: string[];

  constructor(layer: string, missing: string[]) {
    super(
      'BATCH_NORM_INTERNALS',
      `recomputeBatchNorm: layer '${layer}' has no usable ${missing.join(', ')}; expected ` +
        "tfjs-layers 4.22.x's BatchNormalization, whose internals the recompute reads. No " +
        'statistics were written.',
    );
    this.layer = layer;
    this.missing = missing;
  }
}
