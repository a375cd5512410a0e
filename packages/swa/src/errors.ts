import { OnerunError } from '@onerun/core';

/** `copyTo`, `getState` or an average was asked of a `WeightAverager` that has folded in nothing. */
export class EmptyAverageError extends OnerunError {
  constructor(what: string) {
    super(
      'EMPTY_AVERAGE',
      `${what}: the averager holds no weights yet; expected at least one update(model) first.`,
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

/** A second `update` was started before the previous one finished. */
export class ConcurrentUpdateError extends OnerunError {
  constructor(what = 'WeightAverager.update') {
    super(
      'CONCURRENT_UPDATE',
      `${what} was called while a previous update was still running; expected each update to ` +
        'be awaited before the next.',
    );
  }
}

/** An averager (`WeightAverager`, `Swag`) was used after `dispose()`. */
export class DisposedError extends OnerunError {
  constructor(what: string) {
    const owner = what.split('.')[0];
    super('DISPOSED', `${what} was called on a disposed ${owner}; expected a live one.`);
  }
}
