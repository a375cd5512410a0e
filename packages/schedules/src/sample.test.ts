import { InvalidArgumentError } from '@onerun/core';
import { describe, expect, it } from 'vitest';
import { constant } from './constant.js';
import { fgeTriangular } from './fge-triangular.js';
import { sampleSchedule } from './sample.js';
import { sseCosine } from './sse-cosine.js';

describe('sampleSchedule', () => {
  it('gives every step of a finite schedule by default', () => {
    const s = sseCosine({ lr0: 0.1, totalSteps: 20, cycles: 4 });
    const points = sampleSchedule(s);
    expect(points).toHaveLength(20);
    for (const [k, p] of points.entries()) {
      expect(p).toEqual({ step: k, lr: s.lrAt(k), collect: s.collectsAt!(k) });
    }
    expect(points.filter((p) => p.collect).map((p) => p.step)).toEqual([4, 9, 14, 19]);
  });

  it('thins to evenly spaced points but keeps every collection step', () => {
    const s = fgeTriangular({ lr1: 0.05, lr2: 0.01, cycleSteps: 10 });
    const points = sampleSchedule(s, { steps: 100, points: 11 });
    const steps = points.map((p) => p.step);
    const even = [0, 10, 20, 30, 40, 50, 59, 69, 79, 89, 99]; // round(k · 99/10)
    const collect = [4, 14, 24, 34, 44, 54, 64, 74, 84, 94];
    expect(steps).toEqual([...even, ...collect].sort((a, b) => a - b));
    expect(points.filter((p) => p.collect).map((p) => p.step)).toEqual(collect);
  });

  it('needs steps for an infinite schedule and refuses more steps than a finite one has', () => {
    expect(() => sampleSchedule(constant(0.1))).toThrow(
      /steps: got undefined; expected a number of steps/,
    );
    expect(() =>
      sampleSchedule(sseCosine({ lr0: 1, totalSteps: 10, cycles: 2 }), { steps: 11 }),
    ).toThrow(InvalidArgumentError);
    expect(() => sampleSchedule(constant(0.1), { steps: 10, points: 1 })).toThrow(/points: got 1/);
    expect(sampleSchedule(constant(0.1), { steps: 3 })).toEqual([
      { step: 0, lr: 0.1, collect: false },
      { step: 1, lr: 0.1, collect: false },
      { step: 2, lr: 0.1, collect: false },
    ]);
  });
});
