import {
  assertSameWeights,
  DisposedError,
  firstNonFinite,
  InvalidArgumentError,
  NonFiniteError,
  requireInteger,
  requirePositive,
  seededRandom,
  tensorSpecs,
  type WeightSpec,
  weightSpecs,
  writeWeights,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { AveragedWeights, Averager } from './averager.js';
import { EmptyAverageError } from './errors.js';
import { UpdateQueue } from './update-queue.js';

/** Variances below this are clamped before the square root (negative ones are rounding error). */
const VARIANCE_FLOOR = 1e-30;

/** Options of `Swag`. */
export interface SwagOptions {
  /**
   * K: how many deviation columns `wᵢ − w̄ᵢ` (of the latest updates) are kept for the low-rank
   * part of the covariance. Default 20 (the paper's). 0 keeps only the diagonal (SWAG-Diagonal).
   */
  rank?: number;
  /** Which weights to model (default `'trainable'`; batch-norm statistics are recomputed). */
  which?: AveragedWeights;
  /** Reject updates that would make a moment NaN/±Infinity (default true), as `WeightAverager`. */
  checkFinite?: boolean;
}

/** Options of `Swag.sample` / `Swag.sampleInto`. */
export interface SwagSampleOptions {
  /**
   * s in `w = w̄ + √s·(σ ⊙ z₁ + D z₂ / √(K − 1))`. Default 0.5: with the low-rank part that is
   * the paper's `1/√2` on each term.
   */
  scale?: number;
  /**
   * `'low-rank'` (default when at least two deviation columns are held): diagonal plus low-rank
   * covariance. `'diagonal'`: `w̄ + √s·σ ⊙ z₁` (SWAG-Diagonal).
   */
  covariance?: 'low-rank' | 'diagonal';
  /** Seed of the Gaussian draws (same seed, same sample); random when omitted. */
  seed?: number;
}

/** Everything needed to rebuild a `Swag` later (e.g. to resume a run); tensors are copies. */
export interface SwagState {
  rank: number;
  which: AveragedWeights;
  /** Number of updates folded in. */
  count: number;
  /** Name, shape and dtype of each modelled weight, in `modelVariables(model, which)` order. */
  specs: WeightSpec[];
  /** The running mean w̄, one tensor per spec. */
  mean: tf.Tensor[];
  /** The running mean of w², one tensor per spec. */
  squareMean: tf.Tensor[];
  /** The deviation columns, oldest first; each one tensor per spec. */
  deviations: tf.Tensor[][];
}

/**
 * SWAG (Maddox et al. 2019): a Gaussian over weights fitted to the SGD iterates that SWA
 * averages. It keeps the running first and second moments of every weight (mean w̄ and
 * σ² = mean(w²) − w̄², the diagonal) and the deviations `wᵢ − w̄ᵢ` of the last K updates (the
 * low-rank part D), then draws `w = w̄ + √s·(σ ⊙ z₁ + D z₂ / √(K − 1))`, z ~ N(0, I).
 *
 * Use it like `WeightAverager`: `update(model)` at the points SWA would average (for example
 * every epoch of a constant or cyclic learning rate), then for Bayesian model averaging draw
 * several samples with `sampleInto(model)`, **recompute batch norm for each** with
 * `recomputeBatchNorm`, and average the predictions. Memory: (K + 2) × the modelled weights.
 */
export class Swag implements Averager {
  readonly rank: number;
  readonly which: AveragedWeights;
  readonly checkFinite: boolean;
  private means: tf.Variable[] | null = null;
  private squares: tf.Variable[] | null = null;
  /** Deviation columns, oldest first (at most `rank`), each one tensor per weight. */
  private deviations: tf.Tensor[][] = [];
  private specs: WeightSpec[] | null = null;
  private n = 0;
  private readonly updates = new UpdateQueue();
  private disposed = false;

  constructor(options: SwagOptions = {}) {
    this.rank = requireInteger('options.rank', options.rank ?? 20, 0);
    const which = options.which ?? 'trainable';
    if (which !== 'trainable' && which !== 'all') {
      throw new InvalidArgumentError('options.which', which, "'trainable' or 'all'");
    }
    this.which = which;
    this.checkFinite = options.checkFinite ?? true;
  }

  /**
   * Rebuilds a `Swag` from `getState()` output. The tensors are copied: the caller keeps
   * ownership of the state's tensors.
   */
  static fromState(state: SwagState, options: { checkFinite?: boolean } = {}): Swag {
    const swag = new Swag({
      rank: state?.rank,
      which: state?.which,
      ...(options.checkFinite === undefined ? {} : { checkFinite: options.checkFinite }),
    });
    const count = requireInteger('state.count', state.count, 1);
    const columns = state.deviations;
    if (
      !Array.isArray(state.specs) ||
      !Array.isArray(state.mean) ||
      !Array.isArray(state.squareMean) ||
      !Array.isArray(columns)
    ) {
      throw new InvalidArgumentError(
        'state',
        state,
        '{ rank, which, count, specs, mean, squareMean, deviations }',
      );
    }
    if (columns.length > Math.min(swag.rank, count)) {
      throw new InvalidArgumentError(
        'state.deviations',
        `${columns.length} columns`,
        `at most min(rank, count) = ${Math.min(swag.rank, count)}`,
      );
    }
    for (const [what, tensors] of [
      ['mean', state.mean],
      ['squareMean', state.squareMean],
      ...columns.map((c, k) => [`deviations[${k}]`, c] as const),
    ] as const) {
      assertSameWeights(state.specs, tensorSpecs(tensors), `Swag.fromState: specs vs ${what}`);
    }
    swag.specs = state.specs.map((s) => ({ ...s, shape: [...s.shape] }));
    swag.means = state.mean.map((t) => tf.variable(t, false));
    swag.squares = state.squareMean.map((t) => tf.variable(t, false));
    swag.deviations = columns.map((column) => column.map((t) => tf.clone(t)));
    swag.n = count;
    return swag;
  }

  /** A copy of the Swag's state for `Swag.fromState`; the caller owns (and disposes) the tensors. */
  getState(): SwagState {
    const { squares, specs } = this.require('getState');
    return {
      rank: this.rank,
      which: this.which,
      count: this.n,
      specs: specs.map((s) => ({ ...s, shape: [...s.shape] })),
      mean: this.mean(),
      squareMean: squares.map((m) => tf.clone(m)),
      deviations: this.deviations.map((column) => column.map((t) => tf.clone(t))),
    };
  }

  /** Number of updates folded in. */
  get count(): number {
    return this.n;
  }

  /** Number of deviation columns held now: min(count, rank). */
  get columns(): number {
    return this.deviations.length;
  }

  /**
   * Folds `model`'s current weights into the moments and the deviation columns (the first update
   * copies). As `WeightAverager.update`: the weights are taken at the call, overlapping calls
   * queue and apply in call order, and on NaN/±Infinity (with `checkFinite`) that update rejects
   * with `NonFiniteError` and changes nothing.
   */
  async update(model: LayersModel): Promise<void> {
    this.assertLive('update');
    await this.updates.enqueue(model, this.which, (weights, specs) => this.fold(weights, specs));
  }

  private async fold(weights: tf.Tensor[], specs: WeightSpec[]): Promise<void> {
    this.assertLive('update');
    if (this.specs) assertSameWeights(this.specs, specs, 'Swag.update: modelled vs model weights');
    const n = this.n;
    const next = tf.tidy(() =>
      weights.map((w, i) => {
        const square = tf.square(w);
        if (n === 0) return { mean: tf.clone(w), square, deviation: tf.zerosLike(w) };
        const mean0 = this.means?.[i] as tf.Tensor;
        const square0 = this.squares?.[i] as tf.Tensor;
        const mean = tf.add(mean0, tf.div(tf.sub(w, mean0), n + 1));
        return {
          mean,
          square: tf.add(square0, tf.div(tf.sub(square, square0), n + 1)),
          deviation: tf.sub(w, mean),
        };
      }),
    );
    try {
      const bad = this.checkFinite
        ? await firstNonFinite(next.flatMap((m) => [m.mean, m.square]))
        : -1;
      this.assertLive('update'); // disposed while the check was read back
      if (bad >= 0) {
        throw new NonFiniteError(
          `Swag.update #${n + 1}: weight '${specs[Math.floor(bad / 2)]?.name}' (or the moments it yields)`,
        );
      }
    } catch (error) {
      tf.dispose(next.flatMap((m) => [m.mean, m.square, m.deviation]));
      throw error;
    }
    this.commit(next, specs);
    this.n = n + 1;
  }

  /** The SWA mean w̄ as new tensors (caller-owned), in `modelVariables(model, which)` order. */
  mean(): tf.Tensor[] {
    const means = this.require('mean').means;
    return means.map((m) => tf.clone(m));
  }

  /** The diagonal variance σ² = mean(w²) − w̄² (clamped at 1e-30), as new tensors. */
  variance(): tf.Tensor[] {
    const { means, squares } = this.require('variance');
    return tf.tidy(() =>
      means.map((m, i) =>
        tf.maximum(tf.sub(squares[i] as tf.Tensor, tf.square(m)), VARIANCE_FLOOR),
      ),
    );
  }

  /** One draw from the SWAG Gaussian as new tensors (caller-owned), in weight order. */
  sample(options: SwagSampleOptions = {}): tf.Tensor[] {
    const { means, squares } = this.require('sample');
    const scale = requirePositive('options.scale', options.scale ?? 0.5);
    const held = this.deviations.length;
    const covariance = options.covariance ?? (held >= 2 ? 'low-rank' : 'diagonal');
    if (covariance !== 'low-rank' && covariance !== 'diagonal') {
      throw new InvalidArgumentError('options.covariance', covariance, "'low-rank' or 'diagonal'");
    }
    if (covariance === 'low-rank' && held < 2) {
      throw new InvalidArgumentError(
        'options.covariance',
        covariance,
        `'diagonal': a low-rank sample needs at least 2 deviation columns and this Swag holds ` +
          `${held} (rank ${this.rank}, ${this.n} updates)`,
      );
    }
    const seed =
      options.seed === undefined
        ? Math.floor(Math.random() * 2 ** 31)
        : requireInteger('options.seed', options.seed);
    const random = seededRandom(seed);
    const draw = () => Math.floor(random() * 2 ** 31);
    const z2 =
      covariance === 'low-rank'
        ? tf.tidy(() => tf.randomNormal([held], 0, 1, 'float32', draw()).dataSync())
        : undefined;
    const seeds = means.map(() => draw());
    return tf.tidy(() =>
      means.map((m, i) => {
        const variance = tf.maximum(tf.sub(squares[i] as tf.Tensor, tf.square(m)), VARIANCE_FLOOR);
        const z1 = tf.randomNormal(m.shape, 0, 1, 'float32', seeds[i]);
        let noise = tf.mul(tf.sqrt(variance), z1);
        if (z2 !== undefined) {
          const lowRank = tf.addN(
            this.deviations.map((column, k) => tf.mul(column[i] as tf.Tensor, z2[k] as number)),
          );
          noise = tf.add(noise, tf.div(lowRank, Math.sqrt(held - 1)));
        }
        return tf.add(m, tf.mul(noise, Math.sqrt(scale)));
      }),
    );
  }

  /**
   * Writes one draw into `model` (same architecture, checked first). With `which: 'trainable'`
   * the batch-norm statistics are left as they are: recompute them before predicting.
   */
  sampleInto(model: LayersModel, options: SwagSampleOptions = {}): void {
    this.writeInto(model, 'sampleInto', () => this.sample(options));
  }

  /** Writes the SWA mean w̄ into `model` (recompute batch norm afterwards, as for SWA). */
  copyTo(model: LayersModel): void {
    this.writeInto(model, 'copyTo', () => this.mean());
  }

  /** Frees every tensor the Swag holds. Any later call throws `DisposedError`. */
  dispose(): void {
    if (this.disposed) return;
    this.clear();
    this.disposed = true;
  }

  private writeInto(model: LayersModel, what: string, values: () => tf.Tensor[]): void {
    const { specs } = this.require(what);
    assertSameWeights(specs, weightSpecs(model, this.which), `Swag.${what}`);
    const tensors = values();
    try {
      writeWeights(model, tensors, this.which);
    } finally {
      tf.dispose(tensors);
    }
  }

  private commit(
    next: { mean: tf.Tensor; square: tf.Tensor; deviation: tf.Tensor }[],
    specs: WeightSpec[],
  ): void {
    if (this.means === null || this.squares === null) {
      this.means = next.map((m) => tf.variable(m.mean, false));
      this.squares = next.map((m) => tf.variable(m.square, false));
      this.specs = specs;
    } else {
      next.forEach((m, i) => {
        this.means?.[i]?.assign(m.mean);
        this.squares?.[i]?.assign(m.square);
      });
    }
    tf.dispose(next.flatMap((m) => [m.mean, m.square]));
    const column = next.map((m) => m.deviation);
    this.deviations.push(column);
    // Oldest first, so that a seeded sample does not depend on how the columns came in.
    while (this.deviations.length > this.rank) tf.dispose(this.deviations.shift() as tf.Tensor[]);
  }

  private require(what: string): {
    means: tf.Variable[];
    squares: tf.Variable[];
    specs: WeightSpec[];
  } {
    this.assertLive(what);
    if (!this.means || !this.squares || !this.specs || this.n === 0) {
      throw new EmptyAverageError(`Swag.${what}`);
    }
    return { means: this.means, squares: this.squares, specs: this.specs };
  }

  private clear(): void {
    if (this.means) tf.dispose(this.means);
    if (this.squares) tf.dispose(this.squares);
    for (const column of this.deviations) tf.dispose(column);
    this.means = null;
    this.squares = null;
    this.deviations = [];
  }

  private assertLive(what: string): void {
    if (this.disposed) throw new DisposedError(`Swag.${what}`);
  }
}
