import { WeightMismatchError } from '@onerun/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bezierCurve, polyChainCurve, straightLine } from './curve.js';
import { type CurveManifest, decodeCurve, encodeCurve } from './curve-io.js';
import { CurveFormatError } from './errors.js';
import { flatValues } from './test-utils.js';

const ends = () => [
  [tf.tensor2d([[1, 2, 3]]), tf.tensor1d([0.5])],
  [tf.tensor2d([[-1, 0, 7]]), tf.tensor1d([2])],
];

describe('curve save/load', () => {
  it('round-trips a two-bend polychain through JSON + bytes', async () => {
    const [a, b] = ends();
    const bend = [tf.tensor2d([[9, 9, 9]]), tf.tensor1d([-3])];
    const curve = polyChainCurve(a!, b!, [bend, undefined]);
    const { manifest, data } = await encodeCurve(curve, { meta: { startId: 'snap-000001' } });
    expect(manifest.weightsManifest.map((w) => w.name)).toEqual([
      'p0/0',
      'p0/1',
      'p1/0',
      'p1/1',
      'p2/0',
      'p2/1',
      'p3/0',
      'p3/1',
    ]);
    expect(data.byteLength).toBe(4 * 4 * 4);
    const back = decodeCurve(JSON.parse(JSON.stringify(manifest)) as CurveManifest, data);
    expect(back.kind).toBe('polychain');
    expect(back.numBends).toBe(2);
    for (const t of [0, 0.2, 0.5, 0.9, 1]) {
      const x = curve.weightsAt(t);
      const y = back.weightsAt(t);
      expect(await flatValues(y)).toEqual(await flatValues(x));
      tf.dispose([...x, ...y]);
    }
    expect(manifest.meta).toEqual({ startId: 'snap-000001' });
    tf.dispose([...a!, ...b!, ...bend]);
    curve.dispose();
    back.dispose();
  });

  it('stores only the bends when asked, and takes the ends on load', async () => {
    const [a, b] = ends();
    const curve = bezierCurve(a!, b!);
    const { manifest, data } = await encodeCurve(curve, { includeEnds: false });
    expect(manifest.endsIncluded).toBe(false);
    expect(data.byteLength).toBe(4 * 4);
    expect(() => decodeCurve(manifest, data)).toThrow(/pass ends.start/);
    const back = decodeCurve(manifest, data, { start: a!, end: b! });
    expect(await flatValues(back.bends[0]!)).toEqual([0, 1, 5, 1.25]);
    const wrong = [tf.tensor2d([[1, 2]]), tf.tensor1d([0])];
    expect(() => decodeCurve(manifest, data, { start: wrong, end: b! })).toThrow(
      WeightMismatchError,
    );
    tf.dispose([...a!, ...b!, ...wrong]);
    curve.dispose();
    back.dispose();
  });

  it('refuses damaged or foreign data with CurveFormatError and leaks nothing', async () => {
    const [a, b] = ends();
    const line = straightLine(a!, b!);
    const { manifest, data } = await encodeCurve(line);
    const before = tf.memory().numTensors;
    expect(() =>
      decodeCurve({ ...manifest, format: 'other' } as unknown as CurveManifest, data),
    ).toThrow(CurveFormatError);
    expect(() =>
      decodeCurve({ ...manifest, version: 2 } as unknown as CurveManifest, data),
    ).toThrow(/version 2/);
    expect(() => decodeCurve(manifest, data.slice(0, 8))).toThrow(/8 bytes/);
    const renamed = {
      ...manifest,
      weightsManifest: manifest.weightsManifest.map((w) => ({ ...w, name: `x${w.name}` })),
    };
    expect(() => decodeCurve(renamed, data)).toThrow(/p0\/0 .*missing/);
    expect(tf.memory().numTensors).toBe(before);
    const back = decodeCurve(manifest, data);
    expect(back.kind).toBe('line');
    tf.dispose([...a!, ...b!]);
    line.dispose();
    back.dispose();
  });
});
