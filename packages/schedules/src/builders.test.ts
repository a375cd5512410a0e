import { describe, expect, it } from 'vitest';
import { clip } from './clip.js';
import { constant } from './constant.js';
import { fgeTriangular } from './fge-triangular.js';
import { linearWarmup } from './linear-warmup.js';
import type { Schedule } from './schedule.js';
import { sgdr } from './sgdr.js';
import { sseCosine } from './sse-cosine.js';
import { swaAnneal } from './swa-anneal.js';
import { swaCyclic } from './swa-cyclic.js';
import { swaDecay } from './swa-decay.js';

// Ground truth: the formulas of shared/METHODS.md (1-based i = step + 1) and the reference code
// they come from, written out here independently of the implementation.

function expectRates(schedule: Schedule, expected: number[]): void {
  expect(expected.length).toBeGreaterThanOrEqual(100);
  expected.forEach((lr, step) => {
    const got = schedule.lrAt(step);
    if (Math.abs(got - lr) > 1e-12 * Math.max(1, Math.abs(lr))) {
      throw new Error(`${schedule.name} step ${step}: got ${got}, expected ${lr}`);
    }
  });
}

function collectionSteps(schedule: Schedule, steps: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < steps; s++) if (schedule.collectsAt?.(s)) out.push(s);
  return out;
}

describe('sseCosine', () => {
  // α(i) = α0/2 · (cos(π · mod(i−1, ⌈T/M⌉) / ⌈T/M⌉) + 1)
  const reference = (lr0: number, T: number, M: number) => {
    const L = Math.ceil(T / M);
    const out: number[] = [];
    for (let i = 1; i <= T; i++)
      out.push((lr0 / 2) * (Math.cos((Math.PI * ((i - 1) % L)) / L) + 1));
    return out;
  };

  it.each([
    [0.2, 1000, 5],
    [0.1, 997, 7], // T not divisible by M
    [0.05, 300, 7],
    [0.1, 101, 10],
    [0.3, 250, 1],
  ])('lr0=%s T=%s M=%s follows the paper formula at every step', (lr0, T, M) => {
    const s = sseCosine({ lr0, totalSteps: T, cycles: M });
    expectRates(s, reference(lr0, T, M));
    expect(s.totalSteps).toBe(T);
    expect(s.cycleSteps).toBe(Math.ceil(T / M));
  });

  it('restarts at lr0 and collects after the last step of every cycle and the final step', () => {
    // T = 997, M = 7: cycles of 143 steps, the 7th one partial (139 steps).
    const s = sseCosine({ lr0: 0.1, totalSteps: 997, cycles: 7 });
    const expected = [142, 285, 428, 571, 714, 857, 996];
    expect(collectionSteps(s, 997)).toEqual(expected);
    expect(s.cycleCount).toBe(7);
    for (const end of expected.slice(0, -1)) {
      expect(s.lrAt(end + 1)).toBe(0.1); // restart
      expect(s.lrAt(end)).toBeLessThan(s.lrAt(end - 1)); // the end of a decreasing cosine
    }
  });

  it('collects at the final step when a short last cycle remains (T=10, M=4)', () => {
    const s = sseCosine({ lr0: 1, totalSteps: 10, cycles: 4 });
    expect(collectionSteps(s, 10)).toEqual([2, 5, 8, 9]);
    expect(s.lrAt(9)).toBe(1); // a one-step last cycle starts (and ends) at lr0
  });

  it('reports fewer cycles when ⌈T/M⌉ leaves no room for the last one (T=9, M=4)', () => {
    const s = sseCosine({ lr0: 1, totalSteps: 9, cycles: 4 });
    expect(s.cycleSteps).toBe(3);
    expect(s.cycleCount).toBe(3);
    expect(collectionSteps(s, 9)).toEqual([2, 5, 8]);
  });
});

describe('fgeTriangular', () => {
  // t(i) = (mod(i−1, c) + 1)/c; α = (1−2t)α1 + 2tα2 for t ≤ 1/2, (2−2t)α2 + (2t−1)α1 after.
  const reference = (a1: number, a2: number, c: number, steps: number) => {
    const lr: number[] = [];
    const collect: number[] = [];
    for (let i = 1; i <= steps; i++) {
      const t = (((i - 1) % c) + 1) / c;
      lr.push(t <= 0.5 ? (1 - 2 * t) * a1 + 2 * t * a2 : (2 - 2 * t) * a2 + (2 * t - 1) * a1);
      if (t === 0.5) collect.push(i - 1);
    }
    return { lr, collect };
  };

  it.each([
    [0.05, 0.01, 8, 400],
    [0.05, 0.0005, 782, 2000], // 2 epochs of 391 batches
    [0.1, 0.1, 2, 100],
  ])('α1=%s α2=%s c=%s follows the paper formula and collects at t = 1/2', (a1, a2, c, n) => {
    const s = fgeTriangular({ lr1: a1, lr2: a2, cycleSteps: c });
    const ref = reference(a1, a2, c, n);
    expectRates(s, ref.lr);
    expect(collectionSteps(s, n)).toEqual(ref.collect);
    expect(s.cycleSteps).toBe(c);
    expect(s.totalSteps).toBeUndefined();
    for (const at of ref.collect) expect(s.lrAt(at)).toBeCloseTo(a2, 12); // the minimum
  });
});

describe('swaDecay', () => {
  // Official SWA train.py, with epochs → steps: t = epoch / swa_start, r = swa_lr / lr_init.
  const reference = (lrInit: number, swaLr: number, swaStart: number, T: number) => {
    const out: number[] = [];
    for (let epoch = 0; epoch < T; epoch++) {
      const t = epoch / swaStart;
      const ratio = swaLr / lrInit;
      let factor: number;
      if (t <= 0.5) factor = 1.0;
      else if (t <= 0.9) factor = 1.0 - ((1.0 - ratio) * (t - 0.5)) / 0.4;
      else factor = ratio;
      out.push(lrInit * factor);
    }
    return out;
  };

  it.each([
    [0.1, 0.05, 161, 225],
    [0.05, 0.01, 1000, 1500],
    [0.1, 0.1, 100, 100],
  ])('lrInit=%s swaLr=%s start=%s T=%s follows the official schedule', (a, b, start, T) => {
    expectRates(
      swaDecay({ lrInit: a, swaLr: b, swaStart: start, totalSteps: T }),
      reference(a, b, start, T),
    );
  });

  it('collects like the official loop: (s+1) ≥ swaStart and (s+1 − swaStart) % every == 0', () => {
    const s = swaDecay({
      lrInit: 0.1,
      swaLr: 0.01,
      swaStart: 200,
      totalSteps: 300,
      collectEvery: 25,
    });
    const expected: number[] = [];
    for (let step = 0; step < 300; step++) {
      if (step + 1 >= 200 && (step + 1 - 200) % 25 === 0) expected.push(step);
    }
    expect(collectionSteps(s, 300)).toEqual(expected);
    expect(expected).toEqual([199, 224, 249, 274, 299]);
    const every = swaDecay({ lrInit: 0.1, swaLr: 0.01, swaStart: 200, totalSteps: 300 });
    expect(collectionSteps(every, 300)).toHaveLength(101);
  });
});

describe('swaCyclic', () => {
  // t(i) = (mod(i−1, c) + 1)/c, α = (1 − t)α1 + tα2; average at t = 1.
  it.each([
    [0.05, 0.001, 5, 300],
    [0.1, 0.01, 391, 1200],
    [0.02, 0.02, 1, 100],
  ])('α1=%s α2=%s c=%s', (a1, a2, c, n) => {
    const lr: number[] = [];
    const collect: number[] = [];
    for (let i = 1; i <= n; i++) {
      const t = (((i - 1) % c) + 1) / c;
      lr.push((1 - t) * a1 + t * a2);
      if (t === 1) collect.push(i - 1);
    }
    const s = swaCyclic({ lr1: a1, lr2: a2, cycleSteps: c });
    expectRates(s, lr);
    expect(collectionSteps(s, n)).toEqual(collect);
  });
});

describe('constant', () => {
  it('is the same rate forever, with no collection points', () => {
    const s = constant(0.03);
    expectRates(s, new Array(200).fill(0.03));
    expect(s.lrAt(10_000_000)).toBe(0.03);
    expect(s.collectsAt).toBeUndefined();
    expect(s.totalSteps).toBeUndefined();
  });
});

describe('sgdr', () => {
  // Cycles laid end to end: T_i = T_0 · tMult^i, η = η_min + (η_max − η_min)(1 + cos(π T_cur/T_i))/2.
  const reference = (max: number, min: number, t0: number, mult: number, n: number) => {
    const lr: number[] = [];
    const ends: number[] = [];
    for (let ti = t0; lr.length < n; ti *= mult) {
      for (let cur = 0; cur < ti; cur++)
        lr.push(min + ((max - min) * (1 + Math.cos((Math.PI * cur) / ti))) / 2);
      ends.push(lr.length - 1);
    }
    return { lr: lr.slice(0, n), ends: ends.filter((e) => e < n) };
  };

  it.each([
    [0.1, 0, 10, 1, 300],
    [0.1, 0.001, 10, 2, 500],
    [0.5, 0.01, 7, 3, 600],
  ])('lrMax=%s lrMin=%s T0=%s tMult=%s', (max, min, t0, mult, n) => {
    const s = sgdr({ lrMax: max, lrMin: min, firstCycleSteps: t0, tMult: mult });
    const ref = reference(max, min, t0, mult, n);
    expectRates(s, ref.lr);
    expect(collectionSteps(s, n)).toEqual(ref.ends);
    expect(s.cycleSteps).toBe(mult === 1 ? t0 : undefined);
  });
});

describe('swaAnneal', () => {
  // PyTorch SWALR.get_lr, simulated step by step (recursive form, `_get_initial_lr` included).
  const reference = (
    lr0: number,
    swa: number,
    N: number,
    strategy: 'cos' | 'linear',
    n: number,
  ) => {
    const anneal =
      strategy === 'cos' ? (t: number) => (1 - Math.cos(Math.PI * t)) / 2 : (t: number) => t;
    const initial = (lr: number, alpha: number) =>
      alpha === 1 ? swa : (lr - alpha * swa) / (1 - alpha);
    let groupLr = lr0;
    const out: number[] = [];
    for (let stepCount = 1; out.length < n; stepCount++) {
      let step = stepCount - 1;
      if (N === 0) step = Math.max(1, step);
      const prevT = Math.max(0, Math.min(1, (step - 1) / Math.max(1, N)));
      const prevLr = initial(groupLr, anneal(prevT));
      const t = Math.max(0, Math.min(1, step / Math.max(1, N)));
      const alpha = anneal(t);
      groupLr = swa * alpha + prevLr * (1 - alpha);
      out.push(groupLr); // the rate used by epoch stepCount − 1
    }
    return out;
  };

  it.each([
    [0.1, 0.05, 10, 'cos'],
    [0.1, 0.01, 100, 'linear'],
    [0.01, 0.05, 37, 'cos'], // annealing upwards is allowed, as in SWALR
    [0.1, 0.02, 0, 'cos'],
  ] as const)('lrInit=%s swaLr=%s N=%s %s matches SWALR', (a, b, N, strategy) => {
    const ref = reference(a, b, N, strategy, 300);
    const s = swaAnneal({ lrInit: a, swaLr: b, annealSteps: N, strategy });
    for (const [step, lr] of ref.entries()) expect(s.lrAt(step)).toBeCloseTo(lr, 12);
    expect(s.lrAt(299)).toBe(b);
  });
});

describe('clip', () => {
  it("clamps like torchensemble's _clip_lr and keeps the collection points", () => {
    const base = sseCosine({ lr0: 0.1, totalSteps: 500, cycles: 5 });
    const s = clip(base, [0.01, 0.08]);
    const expected: number[] = [];
    for (let i = 0; i < 500; i++) {
      let lr = base.lrAt(i);
      if (lr < 0.01) lr = 0.01;
      if (lr > 0.08) lr = 0.08;
      expected.push(lr);
    }
    expectRates(s, expected);
    expect(collectionSteps(s, 500)).toEqual(collectionSteps(base, 500));
    expect(s.totalSteps).toBe(500);
    expect(s.cycleSteps).toBe(100);
  });
});

describe('linearWarmup', () => {
  it('ramps to the next schedule over warmupSteps, then runs it shifted', () => {
    const next = sseCosine({ lr0: 0.1, totalSteps: 300, cycles: 3 });
    const s = linearWarmup({ warmupSteps: 20, startLr: 0.001, to: next });
    const expected: number[] = [];
    for (let step = 0; step < 20; step++) expected.push(0.001 + ((0.1 - 0.001) * (step + 1)) / 20);
    for (let step = 0; step < 300; step++) expected.push(next.lrAt(step));
    expectRates(s, expected);
    expect(s.totalSteps).toBe(320);
    expect(collectionSteps(s, 320)).toEqual([119, 219, 319]);
  });

  it('accepts a constant target', () => {
    const s = linearWarmup({ warmupSteps: 4, to: 0.2 });
    const expected = [0.05, 0.1, 0.15, 0.2, 0.2, 0.2];
    for (const [j, k] of [0, 1, 2, 3, 4, 500].entries()) {
      expect(s.lrAt(k)).toBeCloseTo(expected[j]!, 15);
    }
    expect(s.totalSteps).toBeUndefined();
  });
});
