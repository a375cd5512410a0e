import {
  assertSameWeights,
  DisposedError,
  InvalidArgumentError,
  tensorSpecs,
  type WeightSpec,
} from '@onerun/core';
import * as tf from '@tensorflow/tfjs-core';
import { bezierCoefficients, polyChainCoefficients } from './coefficients.js';

/** The families of path between two weight sets. */
export type CurveKind = 'bezier' | 'polychain' | 'line';

/**
 * A path `φ(t)`, `t ∈ [0, 1]`, through weight space: a weighted sum of control points, the first
 * being `start` (`φ(0)`) and the last `end` (`φ(1)`), with the bends in between. Every weight of
 * `φ(t)` is linear in the control points, with the same coefficients for every weight.
 */
export interface Curve {
  /** `'bezier'`, `'polychain'` or `'line'` (the straight line, no bends). */
  readonly kind: CurveKind;
  /** A label for tables and charts, e.g. `bezier(1 bend)`. */
  readonly name: string;
  /** Shape and dtype of each weight on the curve, in order. */
  readonly specs: readonly WeightSpec[];
  /** `φ(0)`: the curve's own copies of the first end (never changed). */
  readonly start: readonly tf.Tensor[];
  /** `φ(1)`: the curve's own copies of the second end (never changed). */
  readonly end: readonly tf.Tensor[];
  /** The trainable bends, `bends[k][i]` being weight `i` of bend `k`. Owned by the curve. */
  readonly bends: readonly (readonly tf.Variable[])[];
  /** Number of bends (0 for the straight line). */
  readonly numBends: number;
  /** Coefficient of each control point (`start`, bends…, `end`) at `t`; they sum to 1. */
  coefficients(t: number): number[];
  /** Coefficient of each bend at `t` (`coefficients(t)` without the ends). */
  bendCoefficients(t: number): number[];
  /** New tensors holding `φ(t)`; the caller owns and disposes them. */
  weightsAt(t: number): tf.Tensor[];
  /** Frees the bends and the curve's copies of the ends. */
  dispose(): void;
  /** True after `dispose()`. */
  readonly isDisposed: boolean;
}

/**
 * Initial bends: either a count of bends placed on the straight line, one bend (a weight list),
 * or a list of bends where an `undefined` entry is placed on the straight line.
 */
export type BendsInit =
  | number
  | readonly tf.Tensor[]
  | ReadonlyArray<readonly tf.Tensor[] | undefined>;

class ControlPointCurve implements Curve {
  readonly kind: CurveKind;
  readonly name: string;
  readonly specs: readonly WeightSpec[];
  readonly start: readonly tf.Tensor[];
  readonly end: readonly tf.Tensor[];
  readonly bends: readonly (readonly tf.Variable[])[];
  private readonly coefficientsOf: (t: number, points: number) => number[];
  private disposed = false;

  constructor(
    kind: CurveKind,
    start: readonly tf.Tensor[],
    end: readonly tf.Tensor[],
    bends: BendsInit | undefined,
    coefficientsOf: (t: number, points: number) => number[],
  ) {
    this.specs = tensorSpecs(start);
    assertSameWeights(this.specs, tensorSpecs(end), `${kind} curve: start vs end`);
    const inits = normaliseBends(bends);
    inits.forEach((b, k) => {
      if (b) assertSameWeights(this.specs, tensorSpecs(b), `${kind} curve: start vs bend ${k}`);
    });
    this.kind = kind;
    this.coefficientsOf = coefficientsOf;
    const n = inits.length;
    this.name = kind === 'line' ? 'straight line' : `${kind}(${n} bend${n === 1 ? '' : 's'})`;
    // Clones share the data buffer, so this costs nothing and the caller may dispose its ends.
    this.start = start.map((w) => tf.clone(w));
    this.end = end.map((w) => tf.clone(w));
    this.bends = inits.map((b, k) =>
      tf.tidy(() => {
        // Bend k sits at s = (k+1)/(n+1) of the straight line (the midpoint for one bend);
        // with evenly spaced control points both families then trace the straight line.
        const s = (k + 1) / (n + 1);
        const init = b ?? start.map((w, i) => tf.add(tf.mul(w, 1 - s), tf.mul(end[i]!, s)));
        return init.map((w) => tf.variable(w, true));
      }),
    );
  }

  get numBends(): number {
    return this.bends.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private get points(): readonly (readonly tf.Tensor[])[] {
    return [this.start, ...this.bends, this.end];
  }

  coefficients(t: number): number[] {
    this.assertLive('coefficients');
    return this.coefficientsOf(t, this.numBends + 2);
  }

  bendCoefficients(t: number): number[] {
    return this.coefficients(t).slice(1, -1);
  }

  weightsAt(t: number): tf.Tensor[] {
    const c = this.coefficients(t);
    const points = this.points;
    return tf.tidy(() =>
      this.specs.map((_, i) => {
        let acc: tf.Tensor | undefined;
        points.forEach((p, k) => {
          const ck = c[k]!;
          if (ck === 0) return;
          const w = p[i]!;
          // Never hand out a control point itself: the caller disposes what it gets.
          const term = ck === 1 ? tf.clone(w) : tf.mul(w, ck);
          acc = acc === undefined ? term : tf.add(acc, term);
        });
        return acc ?? tf.zerosLike(points[0]![i]!);
      }),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.start, ...this.end, ...this.bends.flat()]);
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError(`Curve.${method}`, `curve ${this.name}`);
  }
}

function isTensorList(value: readonly unknown[]): value is readonly tf.Tensor[] {
  return value.length > 0 && value[0] instanceof tf.Tensor;
}

function normaliseBends(bends: BendsInit | undefined): (readonly tf.Tensor[] | undefined)[] {
  if (bends === undefined) return [undefined];
  if (typeof bends === 'number') {
    if (!Number.isInteger(bends) || bends < 0) {
      throw new InvalidArgumentError(
        'bends',
        bends,
        'an integer ≥ 0, a weight list or a list of them',
      );
    }
    return Array.from({ length: bends }, () => undefined);
  }
  if (!Array.isArray(bends)) {
    throw new InvalidArgumentError(
      'bends',
      bends,
      'an integer ≥ 0, a weight list or a list of them',
    );
  }
  if (isTensorList(bends)) return [bends];
  return (bends as ReadonlyArray<readonly tf.Tensor[] | undefined>).map((b, k) => {
    if (b !== undefined && !(Array.isArray(b) && b.every((w) => w instanceof tf.Tensor))) {
      throw new InvalidArgumentError(`bends[${k}]`, b, 'a list of tensors or undefined');
    }
    return b;
  });
}

/**
 * A Bezier curve from `start` to `end` through the given bends:
 * `φ(t) = Σ_k C(n−1,k)·t^k·(1−t)^(n−1−k)·w_k` over the `n` control points `start`, bends…, `end`.
 * With one bend `θ`: `(1−t)²·start + 2t(1−t)·θ + t²·end`. By default one bend, at the midpoint.
 * Throws `WeightMismatchError` when the weight lists differ in length or shape.
 */
export function bezierCurve(
  start: readonly tf.Tensor[],
  end: readonly tf.Tensor[],
  bends?: BendsInit,
): Curve {
  return new ControlPointCurve('bezier', start, end, bends, bezierCoefficients);
}

/**
 * A polygonal chain from `start` to `end` through the given bends, the `n` control points placed
 * at `t = k/(n−1)`: the coefficient of point `k` is `max(0, 1 − |t·(n−1) − k|)`. With one bend
 * `θ`: `2(t·θ + (0.5−t)·start)` for `t ≤ 0.5`, `2((t−0.5)·end + (1−t)·θ)` after. By default one
 * bend, at the midpoint. Throws `WeightMismatchError` when the weight lists differ.
 */
export function polyChainCurve(
  start: readonly tf.Tensor[],
  end: readonly tf.Tensor[],
  bends?: BendsInit,
): Curve {
  return new ControlPointCurve('polychain', start, end, bends, polyChainCoefficients);
}

/**
 * The straight line `(1−t)·start + t·end`, the baseline path of mode connectivity (no bends, so
 * nothing to train). Throws `WeightMismatchError` when the weight lists differ.
 */
export function straightLine(start: readonly tf.Tensor[], end: readonly tf.Tensor[]): Curve {
  return new ControlPointCurve('line', start, end, 0, polyChainCoefficients);
}
