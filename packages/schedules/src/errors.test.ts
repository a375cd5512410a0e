import { InvalidArgumentError, OnerunError } from '@onerun/core';
import { describe, expect, it } from 'vitest';
import { clip } from './clip.js';
import { constant } from './constant.js';
import { defineSchedule } from './define.js';
import { ScheduleEndedError } from './errors.js';
import { fgeTriangular } from './fge-triangular.js';
import { linearWarmup } from './linear-warmup.js';
import { sgdr } from './sgdr.js';
import { sseCosine } from './sse-cosine.js';
import { swaAnneal } from './swa-anneal.js';
import { swaCyclic } from './swa-cyclic.js';
import { swaDecay } from './swa-decay.js';

function rejects(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as Error).message).toMatch(message);
}

describe('bad input gives a typed error naming the value and what was expected', () => {
  it('rates: non-finite, negative, zero peaks', () => {
    rejects(
      () => sseCosine({ lr0: Number.NaN, totalSteps: 10, cycles: 2 }),
      /sseCosine: lr0: got NaN; expected a finite number/,
    );
    rejects(() => constant(-0.1), /constant: lr: got -0\.1; expected a finite number ≥ 0/);
    rejects(() => constant(Number.POSITIVE_INFINITY), /got Infinity/);
    rejects(
      () => fgeTriangular({ lr1: 0, lr2: 0, cycleSteps: 4 }),
      /lr1: got 0; expected a finite number > 0/,
    );
    rejects(() => swaCyclic({ lr1: 0.1, lr2: -1, cycleSteps: 4 }), /lr2: got -1/);
    rejects(() => swaAnneal({ lrInit: 0.1, swaLr: Number.NaN, annealSteps: 4 }), /swaLr: got NaN/);
    rejects(() => sgdr({ lrMax: '0.1' as never, firstCycleSteps: 4 }), /lrMax: got "0\.1"/);
    rejects(() => linearWarmup({ warmupSteps: 3, to: -2 }), /to: got -2/);
  });

  it('cycles > totalSteps, non-integer or negative step counts', () => {
    rejects(
      () => sseCosine({ lr0: 0.1, totalSteps: 5, cycles: 6 }),
      /cycles: got 6; expected at most totalSteps = 5/,
    );
    rejects(
      () => sseCosine({ lr0: 0.1, totalSteps: 10.5, cycles: 2 }),
      /totalSteps: got 10\.5; expected an integer ≥ 1/,
    );
    rejects(() => sseCosine({ lr0: 0.1, totalSteps: 10, cycles: 0 }), /cycles: got 0/);
    rejects(() => swaCyclic({ lr1: 0.1, lr2: 0.01, cycleSteps: -3 }), /cycleSteps: got -3/);
    rejects(
      () => swaDecay({ lrInit: 0.1, swaLr: 0.01, swaStart: 11, totalSteps: 10 }),
      /swaStart: got 11; expected at most totalSteps = 10/,
    );
    rejects(
      () => swaDecay({ lrInit: 0.1, swaLr: 0.01, swaStart: 5, totalSteps: 10, collectEvery: 0 }),
      /collectEvery: got 0/,
    );
    rejects(
      () => swaAnneal({ lrInit: 0.1, swaLr: 0.01, annealSteps: -1 }),
      /annealSteps: got -1; expected an integer ≥ 0/,
    );
    rejects(
      () => swaAnneal({ lrInit: 0.1, swaLr: 0.01, annealSteps: 3, strategy: 'exp' as never }),
      /strategy: got "exp"/,
    );
    rejects(() => sgdr({ lrMax: 0.1, firstCycleSteps: 5, tMult: 1.5 }), /tMult: got 1\.5/);
    rejects(() => linearWarmup({ warmupSteps: 0, to: 0.1 }), /warmupSteps: got 0/);
  });

  it('odd FGE cycles', () => {
    rejects(
      () => fgeTriangular({ lr1: 0.05, lr2: 0.01, cycleSteps: 7 }),
      /cycleSteps: got 7; expected an even integer ≥ 2/,
    );
  });

  it('α2 > α1 where the method goes from large to small', () => {
    rejects(
      () => fgeTriangular({ lr1: 0.01, lr2: 0.05, cycleSteps: 4 }),
      /fgeTriangular: lr2: got 0\.05; expected a rate ≤ lr1 = 0\.01/,
    );
    rejects(() => swaCyclic({ lr1: 0.01, lr2: 0.05, cycleSteps: 4 }), /lr2: got 0\.05/);
    rejects(
      () => swaDecay({ lrInit: 0.01, swaLr: 0.05, swaStart: 5, totalSteps: 10 }),
      /swaLr: got 0\.05/,
    );
    rejects(() => sgdr({ lrMax: 0.01, lrMin: 0.05, firstCycleSteps: 4 }), /lrMin: got 0\.05/);
    rejects(
      () => clip(constant(0.1), [0.5, 0.1]),
      /clip: range: got \[0\.5, 0\.1\]; expected lo ≤ hi/,
    );
  });

  it('bad steps: negative, fractional, non-numbers', () => {
    const s = fgeTriangular({ lr1: 0.05, lr2: 0.01, cycleSteps: 4 });
    rejects(
      () => s.lrAt(-1),
      /step of fgeTriangular\(lr1=0\.05, lr2=0\.01, c=4\): got -1; expected an integer ≥ 0/,
    );
    rejects(() => s.lrAt(1.5), /got 1\.5/);
    rejects(() => s.collectsAt?.(Number.NaN), /got NaN/);
  });

  it('steps past the end of a finite schedule', () => {
    const s = sseCosine({ lr0: 0.1, totalSteps: 100, cycles: 4 });
    expect(s.lrAt(99)).toBeGreaterThan(0);
    let error: unknown;
    try {
      s.lrAt(100);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScheduleEndedError);
    expect(error).toBeInstanceOf(OnerunError);
    expect((error as ScheduleEndedError).code).toBe('SCHEDULE_ENDED');
    expect((error as Error).message).toMatch(/got 100; expected an integer in \[0, 99\]/);
    expect(() => s.collectsAt?.(100)).toThrow(ScheduleEndedError);
    expect(() =>
      swaDecay({ lrInit: 0.1, swaLr: 0.01, swaStart: 5, totalSteps: 10 }).lrAt(10),
    ).toThrow(ScheduleEndedError);
  });

  it('defineSchedule applies the same checks to user schedules', () => {
    const s = defineSchedule({ name: 'mine', totalSteps: 3, lrAt: (k) => k });
    expect(s.lrAt(2)).toBe(2);
    expect(() => s.lrAt(3)).toThrow(ScheduleEndedError);
    rejects(() => s.lrAt(-2), /step of mine: got -2/);
  });
});
