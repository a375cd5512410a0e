import { DisposedError, WeightMismatchError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bezierCoefficients, polyChainCoefficients } from './coefficients.js';
import { bezierCurve, type Curve, polyChainCurve, straightLine } from './curve.js';

// Two weights per control point: a 2-vector and a 1×2 matrix, with hand-picked values.
const w1 = () => [tf.tensor1d([1, 2]), tf.tensor2d([[0, 4]])];
const w2 = () => [tf.tensor1d([3, -2]), tf.tensor2d([[8, 0]])];
const th = () => [tf.tensor1d([10, 20]), tf.tensor2d([[-4, 2]])];
const th2 = () => [tf.tensor1d([-6, 0]), tf.tensor2d([[1, 1]])];

const live: (Curve | tf.Tensor)[] = [];
function track<T extends Curve | tf.Tensor | tf.Tensor[]>(x: T): T {
  if (Array.isArray(x)) live.push(...x);
  else live.push(x);
  return x;
}
afterEach(() => {
  for (const x of live.splice(0)) x.dispose();
});

async function values(curve: Curve, t: number): Promise<number[]> {
  const ws = curve.weightsAt(t);
  const out = [...(await ws[0]!.data()), ...(await ws[1]!.data())];
  tf.dispose(ws);
  return out;
}

async function flat(ws: readonly tf.Tensor[] | undefined): Promise<number[]> {
  if (!ws) throw new Error('no weights');
  return [...(await ws[0]!.data()), ...(await ws[1]!.data())];
}

function expectClose(got: number[], expected: number[]): void {
  expect(got).toEqual(expected.map((v) => expect.closeTo(v, 4)));
}

/** Σ c_k·p_k computed by hand over flat control-point vectors. */
function combine(c: number[], points: number[][]): number[] {
  return points[0]!.map((_, j) => c.reduce((s, ck, k) => s + ck * points[k]![j]!, 0));
}

describe('coefficients', () => {
  it('bezier: Bernstein polynomials (one and two bends)', () => {
    const t = 0.3;
    const c3 = bezierCoefficients(t, 3);
    expect(c3[0]).toBeCloseTo(0.49, 12);
    expect(c3[1]).toBeCloseTo(0.42, 12);
    expect(c3[2]).toBeCloseTo(0.09, 12);
    const c4 = bezierCoefficients(t, 4);
    expect(c4).toEqual([0.343, 0.441, 0.189, 0.027].map((v) => expect.closeTo(v, 12)));
    expect(bezierCoefficients(0, 3)).toEqual([1, 0, 0]);
    expect(bezierCoefficients(1, 3)).toEqual([0, 0, 1]);
  });

  it('polychain: hat functions (one and two bends)', () => {
    expect(polyChainCoefficients(0.3, 3).map((c) => +c.toFixed(12))).toEqual([0.4, 0.6, 0]);
    expect(polyChainCoefficients(0.75, 3).map((c) => +c.toFixed(12))).toEqual([0, 0.5, 0.5]);
    expect(polyChainCoefficients(0.5, 4).map((c) => +c.toFixed(12))).toEqual([0, 0.5, 0.5, 0]);
    expect(polyChainCoefficients(0.1, 4).map((c) => +c.toFixed(12))).toEqual([0.7, 0.3, 0, 0]);
    expect(polyChainCoefficients(1, 4)).toEqual([0, 0, 0, 1]);
  });

  it('rejects t outside [0, 1]', () => {
    expect(() => bezierCoefficients(1.5, 3)).toThrow(/t/);
    expect(() => polyChainCoefficients(-0.1, 3)).toThrow(/t/);
  });
});

describe('curves', () => {
  const P1 = [1, 2, 0, 4];
  const P2 = [3, -2, 8, 0];
  const T = [10, 20, -4, 2];
  const T2 = [-6, 0, 1, 1];

  it('bezier with one bend matches (1−t)²·w1 + 2t(1−t)·θ + t²·w2', async () => {
    const curve = track(bezierCurve(track(w1()), track(w2()), track(th())));
    for (const t of [0, 0.2, 0.5, 0.9, 1]) {
      const c = [(1 - t) ** 2, 2 * t * (1 - t), t ** 2];
      const got = await values(curve, t);
      expectClose(got, combine(c, [P1, T, P2]));
    }
  });

  it('polychain with one bend matches the two-piece formula', async () => {
    const curve = track(polyChainCurve(track(w1()), track(w2()), track(th())));
    for (const t of [0, 0.25, 0.5, 0.6, 1]) {
      const expected = P1.map((_, j) =>
        t <= 0.5
          ? 2 * (t * T[j]! + (0.5 - t) * P1[j]!)
          : 2 * ((t - 0.5) * P2[j]! + (1 - t) * T[j]!),
      );
      const got = await values(curve, t);
      expectClose(got, expected);
    }
  });

  it('two bends: cubic Bezier and three-segment chain', async () => {
    const bz = track(bezierCurve(track(w1()), track(w2()), [track(th()), track(th2())]));
    const pc = track(polyChainCurve(track(w1()), track(w2()), [track(th()), track(th2())]));
    expect(bz.numBends).toBe(2);
    for (const t of [0.1, 0.4, 2 / 3, 0.8]) {
      const cb = [(1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3];
      const gotB = await values(bz, t);
      expectClose(gotB, combine(cb, [P1, T, T2, P2]));
      // chain: points at t = 0, 1/3, 2/3, 1
      const s = t * 3;
      const cp = [0, 1, 2, 3].map((k) => Math.max(0, 1 - Math.abs(s - k)));
      const gotP = await values(pc, t);
      expectClose(gotP, combine(cp, [P1, T, T2, P2]));
    }
    expect(await values(pc, 1 / 3)).toEqual(T.map((v) => expect.closeTo(v, 4)));
  });

  it('missing bends start on the straight line (midpoint for one bend)', async () => {
    const one = track(bezierCurve(track(w1()), track(w2())));
    expect(await flat(one.bends[0])).toEqual([2, 0, 4, 2]);
    const two = track(polyChainCurve(track(w1()), track(w2()), [track(th()), undefined]));
    // second bend of three segments: 2/3 of the way
    const mid2 = P1.map((v, j) => v / 3 + (2 * P2[j]!) / 3);
    expect(await flat(two.bends[1])).toEqual(mid2.map((v) => expect.closeTo(v, 5)));
    // n bends on the line: both families are the straight line
    for (const curve of [
      track(bezierCurve(track(w1()), track(w2()), 3)),
      track(polyChainCurve(track(w1()), track(w2()), 3)),
    ]) {
      const got = await values(curve, 0.37);
      expectClose(got, combine([0.63, 0.37], [P1, P2]));
    }
  });

  it('straight line has no bends and interpolates the ends', async () => {
    const line = track(straightLine(track(w1()), track(w2())));
    expect(line.numBends).toBe(0);
    expect(line.kind).toBe('line');
    expect(await values(line, 0.25)).toEqual(
      combine([0.75, 0.25], [P1, P2]).map((v) => expect.closeTo(v, 5)),
    );
  });

  it('keeps its own copies of the ends and returns fresh tensors', async () => {
    const a = w1();
    const b = w2();
    const curve = track(bezierCurve(a, b));
    tf.dispose([...a, ...b]);
    const at0 = curve.weightsAt(0);
    expect(at0[0]).not.toBe(curve.start[0]);
    tf.dispose(at0);
    expect(await flat(curve.start)).toEqual(P1);
    expect(await values(curve, 1)).toEqual(P2);
  });

  it('rejects ends or bends of another architecture with WeightMismatchError', () => {
    const a = track(w1());
    const short = track([tf.tensor1d([1, 2])]);
    const wrongShape = track([tf.tensor1d([1, 2, 3]), tf.tensor2d([[0, 4]])]);
    expect(() => bezierCurve(a, short)).toThrow(WeightMismatchError);
    expect(() => polyChainCurve(a, wrongShape)).toThrow(WeightMismatchError);
    expect(() => bezierCurve(a, track(w2()), [undefined, wrongShape])).toThrow(
      /bend 1.*shape \[2\].*\[3\]/,
    );
    expect(() => bezierCurve(a, track(w2()), -1)).toThrow(/bends/);
  });

  it('dispose frees everything it allocated and is final', () => {
    const a = track(w1());
    const b = track(w2());
    const before = tf.memory().numTensors;
    const curve = polyChainCurve(a, b, 2);
    tf.dispose(curve.weightsAt(0.4));
    curve.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(curve.isDisposed).toBe(true);
    expect(() => curve.weightsAt(0.5)).toThrow(DisposedError);
  });
});
