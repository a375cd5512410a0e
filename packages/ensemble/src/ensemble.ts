import {
  DisposedError,
  exampleCount,
  type Inputs,
  InvalidArgumentError,
  iterateBatches,
  requireInteger,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  accumulate,
  type CombineRule,
  checkRule,
  combineTerms,
  contribution,
  finalize,
  needsLogits,
  normalizeWeights,
} from './combine.js';
import { type Labels, labelIndices } from './labels.js';
import {
  type LogitsFunction,
  type Member,
  type MemberOutput,
  type MemberOutputs,
  MemberRunner,
  type MemberSource,
  ModelSource,
  ShapeChecker,
  type SnapshotSource,
  StreamSource,
  softmaxHead,
} from './members.js';
import {
  type BinOptions,
  type ClassificationMetrics,
  checkBins,
  checkEpsilon,
  DEFAULT_BINS,
  disagreementOf,
  type EpsilonOptions,
  metricsOf,
  PROBABILITY_EPSILON,
  readProbabilities,
  rowArgmax,
} from './metrics.js';
import { type SnapshotSelection, selectSnapshots } from './select.js';
import { StackedMembers } from './stacked.js';

/** One member's outputs over the batches of an evaluation. */
interface MemberBatches {
  probs: tf.Tensor2D[];
  terms: tf.Tensor2D[];
}

/** Default number of examples per forward pass in `predict` and `evaluate`. */
export const DEFAULT_BATCH_SIZE = 256;

/** How an ensemble combines its members. */
export interface EnsembleOptions {
  /** Combination rule; default `'mean'` (see {@link CombineRule}). */
  combine?: CombineRule;
  /**
   * One weight per member, finite and ≥ 0 with a positive sum. Weights are relative: they are
   * normalised to sum 1 (`[2, 1, 1]` acts as `[0.5, 0.25, 0.25]`). Default: uniform.
   */
  weights?: readonly number[];
  /**
   * What each member's output holds: `'probabilities'` (default; a softmax output) or `'logits'`
   * (a linear output, as models trained with a from-logits loss have; softmax is applied).
   */
  output?: MemberOutput;
  /**
   * For `combine: 'logit-mean'` with members whose logits onerun cannot find by itself (it reads
   * the input of a final softmax: a Dense with `activation: 'softmax'`, an `Activation('softmax')`
   * or a `Softmax` layer): a function returning a member's pre-softmax outputs for a batch.
   */
  logits?: LogitsFunction;
  /**
   * Run members held in memory that share one architecture as one stacked model in `predict`
   * (each Dense layer one batched product for all members; see the README); default `true`.
   * `false` runs them one by one, as streaming ensembles and other architectures always do.
   */
  stack?: boolean;
}

/** Which snapshots of a store make the ensemble, and whether to stream them. */
export interface FromStoreOptions extends EnsembleOptions, SnapshotSelection {
  /**
   * Load one member at a time during `predict`/`evaluate` and dispose it after use, so model
   * memory is bounded by one member; default false (load all members now).
   */
  stream?: boolean;
}

/** Options of `predict`. */
export interface PredictOptions {
  /** Examples per forward pass; default {@link DEFAULT_BATCH_SIZE}. */
  batchSize?: number;
}

/** Options of `evaluate`. */
export interface EvaluateOptions extends PredictOptions, BinOptions, EpsilonOptions {}

/** One member's metrics in an evaluation. */
export interface MemberMetrics extends ClassificationMetrics {
  /** 0-based position in the ensemble. */
  index: number;
  /** Snapshot id, for members from a store. */
  id?: string;
}

/** Metrics of the sub-ensemble of the first or last `k` members (weights renormalised). */
export interface SizeCurvePoint extends ClassificationMetrics {
  k: number;
  from: 'first' | 'last';
}

/** What `evaluate` returns. */
export interface EnsembleEvaluation {
  ensemble: ClassificationMetrics;
  members: MemberMetrics[];
  /** `from: 'first'` for k = 1…M, then `from: 'last'` for k = 1…M. */
  sizeCurve: SizeCurvePoint[];
  /** Mean over member pairs of the fraction of examples whose argmax differs (0 for one member). */
  disagreement: number;
}

function isLayersModel(value: unknown): value is LayersModel {
  const m = value as LayersModel | null;
  return typeof m?.execute === 'function' && Array.isArray(m?.outputs) && Array.isArray(m?.inputs);
}

/**
 * M classifiers acting as one: combines their probabilities (or logits) batch by batch and
 * measures the ensemble against its members.
 *
 * Members passed as models stay the caller's (`dispose()` does not free them); members loaded by
 * {@link Ensemble.fromStore} belong to the ensemble.
 */
export class Ensemble {
  /** The combination rule. */
  readonly combine: CombineRule;
  /** Member weights, normalised to sum 1. */
  readonly weights: readonly number[];
  /** Number of members. */
  readonly size: number;
  /** True when members are loaded from a store one at a time. */
  readonly streaming: boolean;
  /** Snapshot ids of the members, for ensembles from a store. */
  readonly ids: readonly string[] | undefined;

  private readonly source: MemberSource;
  private readonly runner: MemberRunner;
  private readonly output: MemberOutput;
  private readonly customLogits: boolean;
  private readonly stack: boolean;
  private readonly checker = new ShapeChecker();
  /** 'logit-mean' reading the input of each member's final softmax. */
  private readonly needsHead: boolean;
  private disposed = false;
  /** Set only while {@link Ensemble.overSource} runs the constructor. */
  private static pendingSource: MemberSource | undefined;

  /**
   * @param members models with the same input shapes and one `[batch, classes]` output each.
   * @throws MemberShapeMismatchError naming the first member whose shapes differ from member 0's.
   * @throws LogitsUnavailableError for `'logit-mean'` when a member's logits cannot be found.
   */
  constructor(members: readonly LayersModel[], options: EnsembleOptions = {}) {
    const prepared = Ensemble.pendingSource;
    Ensemble.pendingSource = undefined;
    if (prepared !== undefined) {
      this.source = prepared;
    } else {
      if (!Array.isArray(members) || members.length === 0) {
        throw new InvalidArgumentError('members', members, 'at least one tf.LayersModel');
      }
      members.forEach((m, i) => {
        if (!isLayersModel(m)) {
          throw new InvalidArgumentError(`members[${i}]`, m, 'a tf.LayersModel');
        }
      });
      this.source = new ModelSource(members, undefined, false);
    }
    this.combine = checkRule(options.combine ?? 'mean');
    const output = options.output ?? 'probabilities';
    if (output !== 'probabilities' && output !== 'logits') {
      throw new InvalidArgumentError('output', output, "'probabilities' or 'logits'");
    }
    if (options.logits !== undefined && typeof options.logits !== 'function') {
      throw new InvalidArgumentError('logits', options.logits, 'a function (model, x) => logits');
    }
    this.size = this.source.size;
    this.weights = normalizeWeights(options.weights, this.size);
    this.streaming = this.source.streaming;
    this.ids = this.source.ids;
    this.runner = new MemberRunner(output, options.logits);
    this.output = output;
    this.customLogits = options.logits !== undefined;
    if (options.stack !== undefined && typeof options.stack !== 'boolean') {
      throw new InvalidArgumentError('stack', options.stack, 'true or false');
    }
    this.stack = options.stack ?? true;
    this.needsHead = needsLogits(this.combine) && output !== 'logits' && !options.logits;
    if (this.source instanceof ModelSource) {
      for (const member of this.source.list()) this.admit(member);
    }
  }

  /**
   * An ensemble of snapshots from a store (a `@onerun/snapshots` `SnapshotStore` or any
   * {@link SnapshotSource}): every snapshot the store lists (oldest first), or those of `kind`
   * (`tags.kind`), or `ids` in the order given, then the `last` k of those. A store holding more
   * than one kind of snapshot (an onerun SWA run folder's `sgd`, `swa-stale-bn` and `swa`) must be
   * told which with `kind` or `ids`; otherwise {@link MixedSnapshotKindsError}.
   * With `stream: true` nothing is loaded now; each `predict`/`evaluate` loads the members one at
   * a time and disposes each after use (shape checks then happen as members load).
   */
  static async fromStore(store: SnapshotSource, options: FromStoreOptions = {}): Promise<Ensemble> {
    const ids = selectSnapshots(await store.list(), options, store);
    if (options.stream) return Ensemble.overSource(new StreamSource(store, ids), options);
    const models: LayersModel[] = [];
    try {
      for (const id of ids) models.push(await store.load(id));
      return Ensemble.overSource(new ModelSource(models, ids, true), options);
    } catch (error) {
      for (const model of models) model.dispose();
      throw error;
    }
  }

  /** An ensemble over a prepared member source (the store-backed ones `fromStore` builds). */
  private static overSource(source: MemberSource, options: EnsembleOptions): Ensemble {
    Ensemble.pendingSource = source;
    try {
      return new Ensemble([], options);
    } finally {
      Ensemble.pendingSource = undefined;
    }
  }

  /**
   * Combined probabilities `[n, classes]` for inputs `x` (a tensor, or one per model input).
   * One path for every ensemble: each group of members the source holds at once (all of them in
   * memory; one when streaming, loaded, used and disposed) runs batch by batch, each batch through
   * every member of the group while it is in cache, into one running sum per batch. Members in
   * memory that share an architecture of Dense, batch-norm and activation layers run as one
   * stacked model (at about the cost of one member's dispatch; equal to the one-by-one results to
   * float rounding, ≤ 1e-5); otherwise members are folded in the same order with the same ops
   * either way, so streaming and in-memory results are identical.
   */
  async predict(x: Inputs, options: PredictOptions = {}): Promise<tf.Tensor2D> {
    this.assertLive('predict');
    const batchSize = requireInteger('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE, 1);
    this.checkInputs(x);
    const want = this.want(false);
    const sums: tf.Tensor2D[] = [];
    try {
      for await (const group of this.source.groups()) {
        for (const member of group) this.admit(member);
        const stacked = this.stackable(group, x, want);
        stacked?.prepare();
        try {
          let b = 0;
          for await (const batch of iterateBatches({ xs: x }, { batchSize, argument: 'x' })) {
            try {
              const previous = sums[b];
              sums[b] = tf.tidy(() => {
                const outs = stacked?.run(batch.xs as tf.Tensor, want);
                return group.reduce<tf.Tensor2D | undefined>((sum, m, k) => {
                  const term = outs
                    ? this.termOf(outs[k] as MemberOutputs, want)
                    : this.term(m, batch.xs, want);
                  return accumulate(sum, term, this.weights[m.index] as number);
                }, previous);
              }) as tf.Tensor2D;
              previous?.dispose();
              b++;
            } finally {
              batch.dispose();
            }
          }
        } finally {
          stacked?.release();
        }
      }
      return tf.tidy(() => finalize(this.combine, tf.concat(sums, 0) as tf.Tensor2D));
    } finally {
      tf.dispose(sums);
    }
  }

  /**
   * Accuracy, NLL, ECE and Brier score of the ensemble and of every member, the ensemble-size
   * curve (first k and last k members, weights renormalised over the k) and member
   * disagreement, against `labels` (class indices or one-hot rows).
   *
   * Members run once each (in streaming mode: loaded once each). The per-member terms of the
   * combination (`n × classes` values per member) are kept until the end, since the size curves
   * need every subset; model memory stays bounded by one member in streaming mode.
   */
  async evaluate(
    x: Inputs,
    labels: Labels,
    options: EvaluateOptions = {},
  ): Promise<EnsembleEvaluation> {
    this.assertLive('evaluate');
    const batchSize = requireInteger('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE, 1);
    const bins = checkBins(options.bins ?? DEFAULT_BINS);
    const epsilon = checkEpsilon(options.epsilon ?? PROBABILITY_EPSILON);
    const n = this.checkInputs(x);
    const want = this.want(true);
    const terms: tf.Tensor2D[][] = [];
    const members: MemberMetrics[] = [];
    const predictions: Int32Array[] = [];
    let y: Int32Array | undefined;
    try {
      for await (const group of this.source.groups()) {
        for (const member of group) this.admit(member);
        const outputs = await this.groupOutputs(group, x, batchSize, want);
        for (const [k, member] of group.entries()) {
          const { probs: probParts, terms: memberTerms } = outputs[k] as MemberBatches;
          terms.push(memberTerms);
          try {
            const matrix = await this.read(probParts, `output of member ${member.index}`);
            y ??= await labelIndices(labels, n, matrix.classes);
            const metrics = metricsOf(matrix, y, bins, epsilon);
            members.push(
              member.id === undefined
                ? { index: member.index, ...metrics }
                : { index: member.index, id: member.id, ...metrics },
            );
            predictions.push(rowArgmax(matrix));
          } finally {
            tf.dispose(probParts);
          }
        }
      }
      const labelsOf = y as Int32Array;
      const subset = async (indices: number[]) => {
        const weights =
          indices.length === this.size
            ? this.weights
            : normalizeWeights(
                indices.map((i) => this.weights[i] as number),
                indices.length,
              );
        const parts = (terms[0] as tf.Tensor2D[]).map((_, b) =>
          tf.tidy(() =>
            combineTerms(
              this.combine,
              indices.map((i) => (terms[i] as tf.Tensor2D[])[b] as tf.Tensor2D),
              weights,
            ),
          ),
        );
        try {
          return metricsOf(await this.read(parts, 'ensemble output'), labelsOf, bins, epsilon);
        } finally {
          tf.dispose(parts);
        }
      };
      const all = Array.from({ length: this.size }, (_, i) => i);
      const ensemble = await subset(all);
      const sizeCurve: SizeCurvePoint[] = [];
      for (const from of ['first', 'last'] as const) {
        for (let k = 1; k <= this.size; k++) {
          const indices = from === 'first' ? all.slice(0, k) : all.slice(this.size - k);
          const metrics = k === this.size ? ensemble : await subset(indices);
          sizeCurve.push({ k, from, ...metrics });
        }
      }
      return { ensemble, members, sizeCurve, disagreement: disagreementOf(predictions) };
    } finally {
      for (const memberTerms of terms) tf.dispose(memberTerms);
    }
  }

  /**
   * Frees the models this ensemble loaded itself (`fromStore` without `stream`); models passed to
   * the constructor stay the caller's. The ensemble cannot be used afterwards.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.source.dispose();
  }

  private want(probs: boolean): { probs: boolean; logits: boolean } {
    const logits = needsLogits(this.combine);
    return { probs: probs || !logits, logits };
  }

  /**
   * Every member's probabilities and combination terms, batch by batch, for `evaluate`: the group
   * as one stacked model where it can be, else member by member. On an error nothing is kept.
   */
  private async groupOutputs(
    group: readonly Member[],
    x: Inputs,
    batchSize: number,
    want: { probs: boolean; logits: boolean },
  ): Promise<MemberBatches[]> {
    const outputs: MemberBatches[] = group.map(() => ({ probs: [], terms: [] }));
    // Inside tf.tidy: a member's probabilities and term (its own handle, so that the two are
    // freed apart), returned out of the tidy.
    const pair = (out: MemberOutputs) => {
      const values = (want.logits ? out.logits : out.probs) as tf.Tensor2D;
      return [out.probs as tf.Tensor2D, tf.clone(contribution(this.combine, values))];
    };
    const stacked = this.stackable(group, x, want);
    stacked?.prepare();
    try {
      // Stacked: one pass over the batches for the whole group; else one pass per member.
      const passes = stacked ? [group.map((_, k) => k)] : group.map((_, k) => [k]);
      for (const ks of passes) {
        for await (const batch of iterateBatches({ xs: x }, { batchSize, argument: 'x' })) {
          try {
            const pairs = tf.tidy(() =>
              stacked
                ? stacked.run(batch.xs as tf.Tensor, want).map(pair)
                : [pair(this.runner.run(group[ks[0] as number] as Member, batch.xs, want))],
            );
            pairs.forEach(([probs, term], i) => {
              const o = outputs[ks[i] as number] as MemberBatches;
              o.probs.push(probs as tf.Tensor2D);
              o.terms.push(term as tf.Tensor2D);
            });
          } finally {
            batch.dispose();
          }
        }
      }
      return outputs;
    } catch (error) {
      for (const o of outputs) tf.dispose([...o.probs, ...o.terms]);
      throw error;
    } finally {
      stacked?.release();
    }
  }

  /** A member's term for one batch; call inside `tf.tidy`. */
  private term(member: Member, xs: Inputs, want: { probs: boolean; logits: boolean }) {
    return this.termOf(this.runner.run(member, xs, want), want);
  }

  private termOf(out: MemberOutputs, want: { probs: boolean; logits: boolean }) {
    return contribution(this.combine, (want.logits ? out.logits : out.probs) as tf.Tensor2D);
  }

  /**
   * The members of a group as one stacked model ({@link StackedMembers}), when they share an
   * architecture it supports and take one input tensor; else `undefined` (one by one).
   */
  private stackable(
    group: readonly Member[],
    x: Inputs,
    want: { logits: boolean },
  ): StackedMembers | undefined {
    if (!this.stack || !(x instanceof tf.Tensor)) return undefined;
    const stacked = StackedMembers.of(group, this.output, this.customLogits);
    return stacked !== undefined && (!want.logits || stacked.givesLogits) ? stacked : undefined;
  }

  /** Shape check, and for 'logit-mean' an early check that the logits can be found. */
  private admit(member: Member): void {
    this.checker.check(member);
    if (this.needsHead) softmaxHead(member);
  }

  private checkInputs(x: Inputs): number {
    const n = exampleCount(x);
    if (n < 1) throw new InvalidArgumentError('x', x, 'at least one example');
    return n;
  }

  private async read(parts: tf.Tensor2D[], what: string) {
    if (parts.length === 1) return readProbabilities(parts[0] as tf.Tensor2D, what);
    const whole = tf.concat(parts, 0);
    try {
      return await readProbabilities(whole, what);
    } finally {
      whole.dispose();
    }
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError(`Ensemble.${method}`);
  }
}
