import {
  assertSameWeights,
  DisposedError,
  firstNonFinite,
  InvalidArgumentError,
  NonFiniteError,
  requireInRange,
  requireInteger,
  tensorSpecs,
  type WeightSpec,
  weightSpecs,
  writeWeights,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmptyAverageError } from './errors.js';
import { UpdateQueue } from './update-queue.js';

/**
 * What `swaCallback` feeds: `WeightAverager` (SWA, EMA, a custom rule) and `Swag` implement it.
 * `update`s may overlap: they queue and apply in call order, each folding in the weights as they
 * were at its call.
 */
export interface Averager {
  /** Number of updates folded in so far (settled ones). */
  readonly count: number;
  /** Folds the model's current weights in. */
  update(model: LayersModel): Promise<void>;
  /** Writes the average (for `Swag`, the SWA mean w̄) into `model`. */
  copyTo(model: LayersModel): void;
  /** Frees the averager's tensors. */
  dispose(): void;
}

/**
 * A custom averaging rule (PyTorch's `avg_fn`): returns the new average of one weight from the
 * current average, the model's current value and how many updates the average already holds
 * (≥ 1; the first update copies and does not call it). Runs inside `tf.tidy`; must be synchronous.
 */
export type AverageFn = (average: tf.Tensor, current: tf.Tensor, count: number) => tf.Tensor;

/**
 * Which weights are averaged. `'trainable'` (the default) skips batch-norm moving statistics:
 * they are not a function of the weights and must be recomputed for the averaged weights with
 * `recomputeBatchNorm`. `'all'` averages them too (Keras-style EMA of every weight).
 */
export type AveragedWeights = 'trainable' | 'all';

/** Options every averaging mode takes. */
export interface CommonAveragerOptions {
  /** Which weights to average (default `'trainable'`). */
  which?: AveragedWeights;
  /**
   * Check each new average for NaN/±Infinity before committing it (default true). The check
   * reads every value once more and waits for one scalar from the device; turning it off makes
   * an SWA update a single `tf.add`, at the price of silently folding in a diverged model.
   */
  checkFinite?: boolean;
}

/** How a `WeightAverager` folds each update in. */
export type AveragerOptions = CommonAveragerOptions &
  /** SWA: the arithmetic mean of every model folded in, `w̄ ← (n·w̄ + w)/(n + 1)`. */
  (
    | { mode: 'swa' }
    /** EMA: `w̄ ← d·w̄ + (1 − d)·w` with `decay` d in [0, 1] (first update copies). */
    | { mode: 'ema'; decay: number }
    /** Any rule: `average(w̄, w, n)` returns the new average. */
    | { mode: 'custom'; average: AverageFn }
  );

/** Everything needed to rebuild a `WeightAverager` later (e.g. to resume a run). */
export interface AveragerState {
  mode: 'swa' | 'ema' | 'custom';
  /** EMA decay, for `mode: 'ema'`. */
  decay?: number;
  which: AveragedWeights;
  /** Number of updates folded into the average. */
  count: number;
  /** Name, shape and dtype of each averaged weight, in `modelVariables(model, which)` order. */
  specs: WeightSpec[];
  /** The average itself (not a running sum), one tensor per spec. */
  tensors: tf.Tensor[];
  /**
   * SWA: the running sum the averager keeps (one tensor per spec). `fromState` restores from it
   * exactly, so a resumed averager continues bit for bit at any count. A state without it (saved
   * before it was added) is restored from `tensors × count`, which can differ in the last bit.
   */
  sum?: tf.Tensor[];
}

/**
 * Keeps a running average of a model's weights (SWA mean, EMA, or a custom rule) in its own
 * variables, allocated at the first `update` and then updated in place.
 *
 * In SWA mode the variables hold the running **sum** and the mean is formed on read, so that an
 * update costs one `tf.add` (plus a reduction for the finiteness check) instead of three
 * element-wise ops; float32 rounding is of the same order as for an incremental mean.
 */
export class WeightAverager implements Averager {
  readonly mode: 'swa' | 'ema' | 'custom';
  readonly which: AveragedWeights;
  /** EMA decay, for `mode: 'ema'`. */
  readonly decay: number | undefined;
  /** Whether updates are checked for NaN/±Infinity before they are committed. */
  readonly checkFinite: boolean;
  private readonly averageFn: AverageFn | undefined;
  private vars: tf.Variable[] | null = null;
  private weightSpecs: WeightSpec[] | null = null;
  private n = 0;
  private readonly updates = new UpdateQueue();
  private disposed = false;

  constructor(options: AveragerOptions) {
    const mode = (options as { mode?: unknown } | undefined)?.mode;
    if (mode !== 'swa' && mode !== 'ema' && mode !== 'custom') {
      throw new InvalidArgumentError('options.mode', mode, "'swa', 'ema' or 'custom'");
    }
    this.mode = mode;
    const which = options.which ?? 'trainable';
    if (which !== 'trainable' && which !== 'all') {
      throw new InvalidArgumentError('options.which', which, "'trainable' or 'all'");
    }
    this.which = which;
    this.checkFinite = options.checkFinite ?? true;
    this.decay =
      options.mode === 'ema' ? requireInRange('options.decay', options.decay, 0, 1) : undefined;
    if (options.mode === 'custom' && typeof options.average !== 'function') {
      throw new InvalidArgumentError(
        'options.average',
        options.average,
        'a function (average, current, count) => tensor',
      );
    }
    this.averageFn = options.mode === 'custom' ? options.average : undefined;
  }

  /**
   * Rebuilds an averager from `getState()` output. The tensors are copied: the caller keeps
   * ownership of `state.tensors` (and `state.sum`). A SWA state with its `sum` resumes exactly.
   * A custom rule cannot be serialised: pass it again as `average`.
   */
  static fromState(
    state: AveragerState,
    options: { average?: AverageFn; checkFinite?: boolean } = {},
  ): WeightAverager {
    const count = requireInteger('state.count', state.count, 1);
    if (!Array.isArray(state.tensors) || !Array.isArray(state.specs)) {
      throw new InvalidArgumentError('state', state, '{ count, specs, tensors, mode, which }');
    }
    const common: CommonAveragerOptions = {
      which: state.which,
      ...(options.checkFinite === undefined ? {} : { checkFinite: options.checkFinite }),
    };
    const averager =
      state.mode === 'ema'
        ? new WeightAverager({ mode: 'ema', decay: state.decay as number, ...common })
        : state.mode === 'custom'
          ? new WeightAverager({ mode: 'custom', average: options.average as AverageFn, ...common })
          : new WeightAverager({ mode: state.mode, ...common });
    assertSameWeights(state.specs, tensorSpecs(state.tensors), 'WeightAverager.fromState');
    const sum = averager.mode === 'swa' ? state.sum : undefined;
    if (sum !== undefined) {
      if (!Array.isArray(sum)) {
        throw new InvalidArgumentError('state.sum', sum, 'an array of tensors (the running sum)');
      }
      assertSameWeights(state.specs, tensorSpecs(sum), 'WeightAverager.fromState: state.sum');
    }
    averager.weightSpecs = state.specs.map((s) => ({ ...s, shape: [...s.shape] }));
    averager.vars = state.tensors.map((t, i) =>
      tf.tidy(() =>
        tf.variable(
          sum
            ? tf.clone(sum[i] as tf.Tensor)
            : averager.mode === 'swa'
              ? tf.mul(t, count)
              : tf.clone(t),
          false,
        ),
      ),
    );
    averager.n = count;
    return averager;
  }

  /** Number of updates folded into the average so far. */
  get count(): number {
    return this.n;
  }

  /** Specs of the averaged weights (after the first update), else `null`. */
  get specs(): WeightSpec[] | null {
    return this.weightSpecs?.map((s) => ({ ...s, shape: [...s.shape] })) ?? null;
  }

  /**
   * Folds `model`'s current weights (those selected by `which`) into the average. The first
   * update copies them. The weights are taken as they are at the call (a copy-free snapshot), so
   * updates need not be awaited one by one: overlapping calls queue and apply in call order, and
   * `count` is right once the last one settles. Unless `checkFinite: false`, each new average is
   * checked for NaN/±Infinity (one small read-back) before it is committed: on non-finite values
   * that update rejects with `NonFiniteError` and the average and `count` stay as they were.
   */
  async update(model: LayersModel): Promise<void> {
    this.assertLive('update');
    await this.updates.enqueue(model, this.which, (weights, specs) => this.fold(weights, specs));
  }

  /**
   * The current average as new tensors, in `modelVariables(model, which)` order; the caller owns
   * (and must dispose) them.
   */
  average(): tf.Tensor[] {
    const vars = this.requireAverage('average');
    const n = this.n;
    return tf.tidy(() => vars.map((v) => (this.mode === 'swa' ? tf.div(v, n) : tf.clone(v))));
  }

  /**
   * Writes the average into `model` (same architecture; shapes are checked before anything is
   * written). With `which: 'trainable'` the model's batch-norm moving statistics are left as they
   * are: recompute them with `recomputeBatchNorm` before evaluating the model.
   */
  copyTo(model: LayersModel): void {
    this.requireAverage('copyTo');
    const specs = weightSpecs(model, this.which);
    assertSameWeights(this.weightSpecs as WeightSpec[], specs, 'WeightAverager.copyTo');
    const avg = this.average();
    try {
      writeWeights(model, avg, this.which);
    } finally {
      tf.dispose(avg);
    }
  }

  /**
   * A snapshot of the averager for `WeightAverager.fromState`; the caller owns `tensors` (and, in
   * SWA mode, `sum`).
   */
  getState(): AveragerState {
    const tensors = this.average();
    const vars = this.vars as tf.Variable[];
    return {
      mode: this.mode,
      ...(this.decay === undefined ? {} : { decay: this.decay }),
      which: this.which,
      count: this.n,
      specs: this.specs as WeightSpec[],
      tensors,
      ...(this.mode === 'swa' ? { sum: vars.map((v) => tf.clone(v)) } : {}),
    };
  }

  /** Forgets the average (frees its variables); the next update starts afresh. */
  reset(): void {
    this.assertLive('reset');
    if (this.vars) tf.dispose(this.vars);
    this.vars = null;
    this.weightSpecs = null;
    this.n = 0;
  }

  /** Frees the averager's variables. Any later call throws. */
  dispose(): void {
    if (this.disposed) return;
    if (this.vars) tf.dispose(this.vars);
    this.vars = null;
    this.disposed = true;
  }

  private async fold(weights: tf.Tensor[], specs: WeightSpec[]): Promise<void> {
    this.assertLive('update');
    if (this.weightSpecs) {
      assertSameWeights(
        this.weightSpecs,
        specs,
        'WeightAverager.update: averaged vs model weights',
      );
    }
    const n = this.n;
    const candidates = tf.tidy(() => weights.map((w, i) => this.foldOne(i, w, n)));
    try {
      const bad = this.checkFinite ? await firstNonFinite(candidates) : -1;
      this.assertLive('update'); // disposed while the check was read back
      if (bad >= 0) {
        throw new NonFiniteError(
          `WeightAverager.update #${n + 1}: weight '${specs[bad]?.name}' (or the average it yields)`,
        );
      }
    } catch (error) {
      tf.dispose(candidates);
      throw error;
    }
    this.commit(candidates, specs);
    this.n = n + 1;
  }

  private foldOne(i: number, current: tf.Tensor, n: number): tf.Tensor {
    const avg = this.vars?.[i];
    if (!avg || n === 0) return tf.clone(current);
    switch (this.mode) {
      case 'swa':
        return tf.add(avg, current);
      case 'ema': {
        const d = this.decay as number;
        return tf.add(avg, tf.mul(tf.sub(current, avg), 1 - d));
      }
      default: {
        const out = (this.averageFn as AverageFn)(avg, current, n);
        if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, avg.shape)) {
          throw new InvalidArgumentError(
            'the custom average function result',
            out,
            `a tensor of shape [${avg.shape.join(', ')}]`,
          );
        }
        return out.dtype === avg.dtype ? out : tf.cast(out, avg.dtype);
      }
    }
  }

  private commit(candidates: tf.Tensor[], specs: WeightSpec[]): void {
    if (this.vars === null) {
      this.vars = candidates.map((t) => tf.variable(t, false));
      this.weightSpecs = specs;
    } else {
      this.vars.forEach((v, i) => {
        v.assign(candidates[i] as tf.Tensor);
      });
    }
    tf.dispose(candidates);
  }

  private requireAverage(what: string): tf.Variable[] {
    this.assertLive(what);
    if (!this.vars || this.n === 0) throw new EmptyAverageError(`WeightAverager.${what}`);
    return this.vars;
  }

  private assertLive(what: string): void {
    if (this.disposed) throw new DisposedError(`WeightAverager.${what}`);
  }
}
