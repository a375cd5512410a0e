import { InvalidArgumentError } from '@onerun/core';
import { describe, expect, it } from 'vitest';
import { constant } from './constant.js';
import { ScheduleEndedError } from './errors.js';
import { fgeTriangular } from './fge-triangular.js';
import { compose, sequence } from './sequence.js';
import { sseCosine } from './sse-cosine.js';
import { swaCyclic } from './swa-cyclic.js';
import { swaDecay } from './swa-decay.js';

const collected = (s: { collectsAt?: (k: number) => boolean }, n: number) =>
  Array.from({ length: n }, (_, k) => k).filter((k) => s.collectsAt?.(k));

describe('sequence', () => {
  it('switches at the segment boundaries, restarting each schedule at its step 0', () => {
    // FGE recipe in steps: 160 steps of a standard schedule (cut from a longer SWA decay), then
    // a cyclic phase of 4-step cycles.
    const pre = swaDecay({ lrInit: 0.1, swaLr: 0.05, swaStart: 200, totalSteps: 200 });
    const fge = fgeTriangular({ lr1: 0.05, lr2: 0.01, cycleSteps: 4 });
    const s = sequence([
      { schedule: pre, steps: 160 },
      { schedule: fge, steps: 40 },
    ]);
    for (let k = 0; k < 160; k++) expect(s.lrAt(k)).toBe(pre.lrAt(k));
    for (let k = 160; k < 200; k++) expect(s.lrAt(k)).toBe(fge.lrAt(k - 160));
    expect(s.totalSteps).toBe(200);
    // pre would collect from step 199 on, but it is cut at 160: only FGE's points, shifted.
    const fgePoints = collected(fge, 40).map((k) => k + 160);
    expect(collected(s, 200)).toEqual(fgePoints);
    expect(fgePoints.slice(0, 3)).toEqual([161, 165, 169]);
    expect(() => s.lrAt(200)).toThrow(ScheduleEndedError);
  });

  it('takes its length from a finite last schedule and runs forever after an infinite one', () => {
    const sse = sseCosine({ lr0: 0.1, totalSteps: 30, cycles: 3 });
    const finite = sequence([{ schedule: constant(0.01), steps: 5 }, { schedule: sse }]);
    expect(finite.totalSteps).toBe(35);
    expect(collected(finite, 35)).toEqual([14, 24, 34]);
    const forever = sequence([{ schedule: sse, steps: 30 }, { schedule: constant(0.001) }]);
    expect(forever.totalSteps).toBeUndefined();
    expect(forever.lrAt(1_000_000)).toBe(0.001);
    expect(collected(forever, 100)).toEqual([9, 19, 29]);
  });

  it('ignores the collection points of a segment marked collect: false', () => {
    const pre = swaDecay({ lrInit: 0.1, swaLr: 0.05, swaStart: 10, totalSteps: 20 });
    const cyc = swaCyclic({ lr1: 0.05, lr2: 0.01, cycleSteps: 5 });
    const s = sequence([
      { schedule: pre, steps: 20, collect: false },
      { schedule: cyc, steps: 10 },
    ]);
    expect(collected(s, 30)).toEqual([24, 29]);
    expect(s.lrAt(15)).toBe(pre.lrAt(15));
    const none = sequence([{ schedule: pre, collect: false }]);
    expect(none.collectsAt).toBeUndefined();
  });

  it('has no collectsAt when no segment collects', () => {
    expect(
      sequence([{ schedule: constant(1), steps: 2 }, { schedule: constant(2) }]).collectsAt,
    ).toBeUndefined();
  });

  it('refuses a segment longer than its finite schedule, missing steps, and empty input', () => {
    const sse = sseCosine({ lr0: 0.1, totalSteps: 30, cycles: 3 });
    expect(() => sequence([{ schedule: sse, steps: 31 }, { schedule: constant(0.1) }])).toThrow(
      /segments\[0\]\.steps: got 31; expected at most 30/,
    );
    expect(() => sequence([{ schedule: constant(0.1) }, { schedule: sse }])).toThrow(
      InvalidArgumentError,
    );
    expect(() => sequence([])).toThrow(InvalidArgumentError);
    expect(() =>
      sequence([{ schedule: { name: 'x' } as never, steps: 3 }, { schedule: sse }]),
    ).toThrow(/segments\[0\]\.schedule/);
  });
});

describe('compose', () => {
  it('equals sequence with the same switch points given as absolute milestones', () => {
    const a = constant(0.1);
    const b = swaCyclic({ lr1: 0.05, lr2: 0.01, cycleSteps: 7 });
    const c = fgeTriangular({ lr1: 0.02, lr2: 0.001, cycleSteps: 6 });
    const composed = compose([a, b, c], [50, 120]);
    const seq = sequence([{ schedule: a, steps: 50 }, { schedule: b, steps: 70 }, { schedule: c }]);
    for (let k = 0; k < 400; k++) {
      expect(composed.lrAt(k)).toBe(seq.lrAt(k));
      expect(composed.collectsAt?.(k)).toBe(seq.collectsAt?.(k));
    }
    expect(collected(composed, 130)).toEqual([56, 63, 70, 77, 84, 91, 98, 105, 112, 119, 122, 128]);
  });

  it('refuses milestones that are not increasing or do not match the schedules', () => {
    const a = constant(0.1);
    expect(() => compose([a, a], [])).toThrow(/milestones/);
    expect(() => compose([a, a, a], [10, 10])).toThrow(
      /milestones\[1\]: got 10; expected an integer ≥ 11/,
    );
    expect(() => compose([a, a], [0])).toThrow(InvalidArgumentError);
  });
});
