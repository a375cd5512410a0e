import { InvalidArgumentError } from '@onerun/core';
import { describe, expect, it } from 'vitest';
import { bootstrapMeans, pairedBootstrap, verdictOf } from './paired-bootstrap.js';

describe('pairedBootstrap', () => {
  it('gives [0, 0] for identical predictions', () => {
    const correct = [1, 0, 1, 1, 0, 1, 1, 1];
    const r = pairedBootstrap(correct, correct, { seed: 3 });
    expect(r).toMatchObject({ difference: 0, lower: 0, upper: 0, level: 0.95, resamples: 2000 });
    expect(verdictOf(r, true)).toBe('within noise');
  });

  it('gives a point interval for a constant difference', () => {
    const r = pairedBootstrap([1, 1, 1, 1], [0, 0, 0, 0]);
    expect([r.difference, r.lower, r.upper]).toEqual([1, 1, 1]);
    expect(verdictOf(r, true)).toBe('better');
    expect(verdictOf(r, false)).toBe('worse');
  });

  it('matches the hand-computed distribution of two examples', () => {
    // d = [0, 1]: a resample's mean is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4, so the
    // 2.5% and 97.5% quantiles are 0 and 1, and about half the resamples land on 1/2.
    const r = pairedBootstrap([1, 1], [1, 0], { seed: 11 });
    expect(r.difference).toBe(0.5);
    expect([r.lower, r.upper]).toEqual([0, 1]);
    const [narrow] = bootstrapMeans([[0, 1]], { seed: 11, level: 0.4 });
    // The central 40% lies inside the 50% mass at 1/2.
    expect([narrow!.lower, narrow!.upper]).toEqual([0.5, 0.5]);
  });

  it('agrees with the normal approximation on many examples', () => {
    // 400 examples, a: 60% correct, b: 50% correct, independent errors: the mean difference has
    // standard error sqrt(var(d)/n).
    const n = 400;
    const a = Array.from({ length: n }, (_, i) => (i % 5 < 3 ? 1 : 0));
    const b = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const d = a.map((x, i) => x - b[i]!);
    const mean = d.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
    const half = (1.96 * sd) / Math.sqrt(n);
    const r = pairedBootstrap(a, b, { seed: 1, resamples: 4000 });
    expect(r.difference).toBeCloseTo(0.1, 12);
    expect(r.lower).toBeGreaterThan(mean - half * 1.15);
    expect(r.lower).toBeLessThan(mean - half * 0.85);
    expect(r.upper).toBeGreaterThan(mean + half * 0.85);
    expect(r.upper).toBeLessThan(mean + half * 1.15);
    expect(verdictOf(r, true)).toBe('better');
    // NLL-like: lower is better, so a difference below 0 is the win.
    const nll = pairedBootstrap(b, a, { seed: 1 });
    expect(verdictOf(nll, false)).toBe('better');
  });

  it('is seeded: the same seed gives the same interval, columns share resamples', () => {
    const a = [0.1, 0.5, 0.2, 0.9, 0.3];
    const b = [0.2, 0.1, 0.4, 0.3, 0.3];
    expect(pairedBootstrap(a, b, { seed: 5 })).toEqual(pairedBootstrap(a, b, { seed: 5 }));
    const d = a.map((x, i) => x - b[i]!);
    const [first, second] = bootstrapMeans([d, d.map((x) => 2 * x)], { seed: 5 });
    expect(second!.lower).toBeCloseTo(2 * first!.lower, 12);
    expect(second!.upper).toBeCloseTo(2 * first!.upper, 12);
  });

  it('refuses unpaired or empty inputs and bad settings', () => {
    expect(() => pairedBootstrap([1, 0], [1])).toThrow(InvalidArgumentError);
    expect(() => pairedBootstrap([], [])).toThrow(/at least one example/);
    expect(() => pairedBootstrap([1], [0], { resamples: 0 })).toThrow(/resamples/);
    expect(() => pairedBootstrap([1], [0], { level: 1 })).toThrow(/level/);
  });
});
